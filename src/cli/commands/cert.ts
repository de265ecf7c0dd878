import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { trustStoreDir } from '../../config/paths.js';
import { findSigningKey, readSigningKeys, writeSigningKeys } from '../../config/signing-keys.js';
import { listTrustStores, readTrustStore } from '../../config/trust-store-dir.js';
import { PortcullisError } from '../../errors/index.js';
import type { TrustStoreType } from '../../policy/types.js';
import { generateTestCertificate } from '../../signing/test-certificate.js';
import { buildTrustStore, parseCertificateFile } from '../../x509/index.js';
import { readFile } from 'node:fs/promises';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat, positiveInteger } from '../options.js';

/** How far before now a generated test certificate becomes valid. */
const BACKDATE_MS = 5 * 60_000;

const TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];

function storeType(value: string): TrustStoreType {
  if ((TYPES as readonly string[]).includes(value)) return value as TrustStoreType;
  throw new PortcullisError('ERR_INPUT_INVALID', `--type must be one of ${TYPES.join(', ')}, got "${value}"`);
}

/** `cert add --type T --store NAME FILE...`: validates like the verifier will, then copies. */
export async function certAddCommand(files: readonly string[], opts: { configDir: string; type: string; store: string }, io: CliIo): Promise<number> {
  const type = storeType(opts.type);
  if (files.length === 0) throw new PortcullisError('ERR_INPUT_INVALID', 'cert add needs at least one certificate file');
  const inputs = await Promise.all(
    files.map(async (f) => {
      try {
        return { name: basename(f), bytes: new Uint8Array(await readFile(f)), path: f };
      } catch (cause) {
        throw new PortcullisError('ERR_INPUT_INVALID', `cannot read "${f}": ${(cause as Error).message}`, { cause });
      }
    }),
  );
  // Rejects exactly what the trust store loader would reject, before anything is written.
  buildTrustStore(type, opts.store, inputs);
  const dir = trustStoreDir(opts.configDir, type, opts.store);
  await mkdir(dir, { recursive: true });
  for (const input of inputs) await copyFile(input.path, join(dir, input.name));
  io.stdout(`added ${inputs.length} certificate file(s) to trust store ${type}:${opts.store} (${dir})\n`);
  return EXIT.ok;
}

/** `cert list`: every store and the subject of each certificate in it. */
export async function certListCommand(opts: { configDir: string; output?: string }, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const rows: { type: string; store: string; subject: string; sha256: string; notAfter: string }[] = [];
  for (const s of await listTrustStores(opts.configDir)) {
    for (const c of (await readTrustStore(opts.configDir, s.type, s.name)) ?? []) {
      rows.push({ type: s.type, store: s.name, subject: c.subject, sha256: c.sha256, notAfter: c.notAfter.toISOString() });
    }
  }
  if (format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
  else if (rows.length === 0) io.stdout('no trust store certificates\n');
  else io.stdout(`${rows.map((r) => `${r.type}:${r.store}\t${r.subject}\tsha256:${r.sha256}\tuntil ${r.notAfter}`).join('\n')}\n`);
  return EXIT.ok;
}

/**
 * `cert generate-test NAME`: a key and self-signed certificate meeting the Notary requirements,
 * stored as notation stores them (localkeys/NAME.key, localkeys/NAME.crt, signingkeys.json) and
 * added to the ca trust store NAME.
 */
export async function certGenerateTestCommand(
  name: string,
  opts: { configDir: string; bits?: string; keyType?: string; days?: string; default?: boolean },
  io: CliIo,
): Promise<number> {
  if (!/^[a-zA-Z0-9_.-]+$/.test(name)) throw new PortcullisError('ERR_INPUT_INVALID', `key name "${name}" must match [a-zA-Z0-9_.-]+ (it names a trust store)`);
  const keyType = opts.keyType ?? 'rsa';
  if (keyType !== 'rsa' && keyType !== 'ec') throw new PortcullisError('ERR_INPUT_INVALID', `--key-type must be rsa or ec, got "${keyType}"`);
  const bits = positiveInteger('--bits', opts.bits, keyType === 'rsa' ? 3072 : 256);
  const days = positiveInteger('--days', opts.days, 365);
  const keys = await readSigningKeys(opts.configDir);
  if (keys.keys.some((k) => k.name === name)) throw new PortcullisError('ERR_INPUT_INVALID', `signing key "${name}" already exists`);
  let generated;
  try {
    // Valid from five minutes ago: a signature timestamped right away has a time range (the TSA's
    // accuracy) that would otherwise start before the certificate, and machines' clocks differ.
    generated = await generateTestCertificate({ name, keyType, bits, notBefore: new Date(io.now().getTime() - BACKDATE_MS), days });
  } catch (cause) {
    throw new PortcullisError('ERR_INPUT_INVALID', (cause as Error).message, { cause });
  }
  const localkeys = join(opts.configDir, 'localkeys');
  await mkdir(localkeys, { recursive: true });
  const keyPath = join(localkeys, `${name}.key`);
  const certPath = join(localkeys, `${name}.crt`);
  await writeFile(keyPath, generated.keyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  await writeFile(certPath, generated.certPem);
  const storeDir = trustStoreDir(opts.configDir, 'ca', name);
  await mkdir(storeDir, { recursive: true });
  await writeFile(join(storeDir, `${name}.crt`), generated.certPem);
  const makeDefault = opts.default === true || keys.default === undefined;
  await writeSigningKeys(opts.configDir, {
    ...(makeDefault ? { default: name } : keys.default === undefined ? {} : { default: keys.default }),
    keys: [...keys.keys, { name, keyPath, certPath }],
  });
  // Sanity: what was written must load back the way verification will read it.
  findSigningKey(await readSigningKeys(opts.configDir), name, opts.configDir);
  parseCertificateFile(new Uint8Array(await readFile(certPath)));
  io.stdout(
    `generated ${keyType.toUpperCase()}-${bits} key "${name}" and self-signed certificate ${generated.subject}\n` +
      `  key:         ${keyPath}\n  certificate: ${certPath}\n  trust store: ca:${name}${makeDefault ? '\n  set as the default signing key' : ''}\n`,
  );
  return EXIT.ok;
}
