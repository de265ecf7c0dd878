import { resolve } from 'node:path';
import {
  readSigningKeys,
  signingKeysPath,
  writeSigningKeys,
  type SigningKeyEntry,
} from '../../notation-config/index.js';
import { PortcullisError } from '../../errors/index.js';
import { LocalKeySigner } from '../../signing/index.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat } from '../options.js';
import { parsePairs } from '../pairs.js';
import { table } from '../table.js';

/** notation's key names are file-name safe (they name localkeys/<name>.key). */
const KEY_NAME = /^[a-zA-Z0-9_.-]+$/;

/**
 * `key list`: name, key and certificate paths, plugin key id and plugin, the default marked `*` (notation's columns).
 */
export async function keyListCommand(opts: { configDir: string; output?: string }, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const keys = await readSigningKeys(opts.configDir);
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ default: keys.default ?? null, keys: keys.keys }, null, 2)}\n`);
    return EXIT.ok;
  }
  if (keys.keys.length === 0) {
    io.stdout(`no signing keys in ${signingKeysPath(opts.configDir)} (portcullis cert generate-test NAME makes one)\n`);
    return EXIT.ok;
  }
  io.stdout(
    table(
      ['NAME', 'KEY PATH', 'CERTIFICATE PATH', 'ID', 'PLUGIN NAME'],
      keys.keys.map((k) => [
        `${k.name === keys.default ? '* ' : '  '}${k.name}`,
        k.keyPath ?? '',
        k.certPath ?? '',
        k.id ?? '',
        k.plugin?.name ?? '',
      ]),
    ),
  );
  return EXIT.ok;
}

export interface KeyAddOptions {
  readonly configDir: string;
  readonly keyFile?: string;
  readonly certFile?: string;
  readonly plugin?: string;
  readonly id?: string;
  readonly pluginConfig?: readonly string[];
  readonly default?: boolean;
}

/**
 * `key add NAME (--key-file F --cert-file F | --plugin P --id ID [--plugin-config k=v]) [--default]`.
 * A local key is checked as signing will use it (the key belongs to the leaf, the chain meets
 * the Notary requirements) before the entry is written; paths are stored absolute, as notation
 * writes them.
 */
export async function keyAddCommand(name: string, opts: KeyAddOptions, io: CliIo): Promise<number> {
  if (!KEY_NAME.test(name))
    throw new PortcullisError('ERR_INPUT_INVALID', `key name "${name}" must match [a-zA-Z0-9_.-]+`);
  const local = opts.keyFile !== undefined || opts.certFile !== undefined;
  const plugin = opts.plugin !== undefined || opts.id !== undefined;
  if (local === plugin)
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      'give either --key-file and --cert-file (a local key) or --plugin and --id (a plugin key)',
    );
  let entry: SigningKeyEntry;
  if (local) {
    if (opts.keyFile === undefined || opts.certFile === undefined)
      throw new PortcullisError('ERR_INPUT_INVALID', '--key-file and --cert-file go together');
    entry = { name, keyPath: resolve(opts.keyFile), certPath: resolve(opts.certFile) };
    await LocalKeySigner.fromEntry(opts.configDir, entry);
  } else {
    if (opts.plugin === undefined || opts.id === undefined)
      throw new PortcullisError('ERR_INPUT_INVALID', '--plugin and --id go together');
    if (!KEY_NAME.test(opts.plugin))
      throw new PortcullisError('ERR_INPUT_INVALID', `plugin name "${opts.plugin}" must match [a-zA-Z0-9_.-]+`);
    const config = parsePairs('--plugin-config', opts.pluginConfig);
    entry = { name, id: opts.id, plugin: { name: opts.plugin, ...(config === undefined ? {} : { config }) } };
  }
  const keys = await readSigningKeys(opts.configDir);
  if (keys.keys.some((k) => k.name === name))
    throw new PortcullisError(
      'ERR_KEY_EXISTS',
      `signing key "${name}" is already in ${signingKeysPath(opts.configDir)}`,
    );
  const makeDefault = opts.default === true;
  await writeSigningKeys(opts.configDir, {
    ...(makeDefault ? { default: name } : keys.default === undefined ? {} : { default: keys.default }),
    keys: [...keys.keys, entry],
  });
  io.stdout(`${name}${makeDefault ? ': marked as default' : ''}\n`);
  return EXIT.ok;
}

/** `key delete NAME...`: entries only; the key files stay where they are (notation's rule). */
export async function keyDeleteCommand(
  names: readonly string[],
  opts: { configDir: string },
  io: CliIo,
): Promise<number> {
  const keys = await readSigningKeys(opts.configDir);
  const missing = names.filter((n) => !keys.keys.some((k) => k.name === n));
  if (missing.length > 0)
    throw new PortcullisError(
      'ERR_KEY_NOT_FOUND',
      `no signing key named ${missing.map((n) => `"${n}"`).join(', ')} in ${signingKeysPath(opts.configDir)}`,
    );
  const removedDefault = keys.default !== undefined && names.includes(keys.default);
  await writeSigningKeys(opts.configDir, {
    ...(removedDefault || keys.default === undefined ? {} : { default: keys.default }),
    keys: keys.keys.filter((k) => !names.includes(k.name)),
  });
  for (const n of names)
    io.stdout(
      `Removed ${n === keys.default ? 'default key ' : ''}${n} from the signing key list. The key files still exist.\n`,
    );
  if (removedDefault) io.stdout('There is no default signing key now: portcullis key set-default NAME chooses one.\n');
  return EXIT.ok;
}

/** `key set-default NAME`. */
export async function keySetDefaultCommand(name: string, opts: { configDir: string }, io: CliIo): Promise<number> {
  const keys = await readSigningKeys(opts.configDir);
  if (!keys.keys.some((k) => k.name === name))
    throw new PortcullisError(
      'ERR_KEY_NOT_FOUND',
      `no signing key named "${name}" in ${signingKeysPath(opts.configDir)}`,
    );
  await writeSigningKeys(opts.configDir, { default: name, keys: keys.keys });
  io.stdout(`${name}: marked as default\n`);
  return EXIT.ok;
}
