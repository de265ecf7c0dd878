import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { PortcullisError } from '../errors/index.js';

/** One entry of notation's signingkeys.json. Local keys have keyPath/certPath; plugin keys have id + plugin. */
export interface SigningKeyEntry {
  readonly name: string;
  readonly keyPath?: string;
  readonly certPath?: string;
  readonly id?: string;
  readonly plugin?: { readonly name: string; readonly config?: Readonly<Record<string, string>> };
}

export interface SigningKeys {
  readonly default?: string;
  readonly keys: readonly SigningKeyEntry[];
}

export function signingKeysPath(configDir: string): string {
  return join(configDir, 'signingkeys.json');
}

export async function readSigningKeys(configDir: string): Promise<SigningKeys> {
  const path = signingKeysPath(configDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [] };
    throw new PortcullisError('ERR_CONFIG_INVALID', `cannot read "${path}": ${(cause as Error).message}`, { cause });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new PortcullisError('ERR_CONFIG_INVALID', `"${path}" is not valid JSON`, { cause });
  }
  const d = doc as { default?: unknown; keys?: unknown };
  if (typeof d !== 'object' || d === null || (d.keys !== undefined && !Array.isArray(d.keys))) {
    throw new PortcullisError('ERR_CONFIG_INVALID', `"${path}" must be an object with a "keys" array`);
  }
  const keys = (d.keys ?? []) as SigningKeyEntry[];
  for (const [i, k] of keys.entries()) {
    if (typeof k?.name !== 'string' || k.name === '')
      throw new PortcullisError('ERR_CONFIG_INVALID', `"${path}": keys[${i}] has no name`);
  }
  return { ...(typeof d.default === 'string' ? { default: d.default } : {}), keys };
}

export async function writeSigningKeys(configDir: string, keys: SigningKeys): Promise<void> {
  const path = signingKeysPath(configDir);
  await mkdir(dirname(path), { recursive: true });
  // Write then rename, so a crash never leaves a half-written file that notation would reject.
  await writeFile(`${path}.tmp`, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Finds a key by name, or the default key when no name is given. */
export function findSigningKey(keys: SigningKeys, name: string | undefined, configDir: string): SigningKeyEntry {
  const wanted = name ?? keys.default;
  if (wanted === undefined) {
    throw new PortcullisError(
      'ERR_KEY_NOT_FOUND',
      `no signing key named and no default key set in ${signingKeysPath(configDir)}`,
    );
  }
  const entry = keys.keys.find((k) => k.name === wanted);
  if (entry === undefined)
    throw new PortcullisError('ERR_KEY_NOT_FOUND', `signing key "${wanted}" is not in ${signingKeysPath(configDir)}`);
  return entry;
}

/** notation writes absolute paths; relative ones are read relative to the config directory. */
export function resolveKeyPath(configDir: string, path: string): string {
  return isAbsolute(path) ? path : join(configDir, path);
}
