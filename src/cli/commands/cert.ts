import { chmod, copyFile, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  trustStoreDir,
  findSigningKey,
  readSigningKeys,
  writeSigningKeys,
  listTrustStores,
  readTrustStoreFiles,
} from '../../notation-config/index.js';
import { PortcullisError } from '../../errors/index.js';
import { generateTestCertificate } from '../../signing/index.js';
import {
  TRUST_STORE_NAME,
  TRUST_STORE_TYPES,
  isTrustStoreType,
  type TrustStoreType,
  buildTrustStore,
  keySpecName,
  parseCertificateFile,
  type Certificate,
} from '../../x509/index.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat, positiveInteger } from '../options.js';
import { table } from '../table.js';

/** How far before now a generated test certificate becomes valid. */
const BACKDATE_MS = 5 * 60_000;

function storeType(value: string | undefined): TrustStoreType {
  if (isTrustStoreType(value)) return value;
  throw new PortcullisError(
    'ERR_INPUT_INVALID',
    `--type must be one of ${TRUST_STORE_TYPES.join(', ')}, got "${value ?? ''}"`,
  );
}

function storeName(value: string | undefined): string {
  if (value === undefined || !TRUST_STORE_NAME.test(value))
    throw new PortcullisError('ERR_INPUT_INVALID', `--store "${value ?? ''}" must match [a-zA-Z0-9_.-]+`);
  return value;
}

/** A file name inside a store: a plain name, never a path. */
function fileName(value: string): string {
  if (value === '' || value === '.' || value === '..' || value !== basename(value) || value.includes('\\')) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `"${value}" is not a certificate file name of the store (a name as cert list prints it, not a path)`,
    );
  }
  return value;
}

/** The certificates of each file of a store, as verification reads them (the whole store validated). */
async function storeFiles(
  configDir: string,
  type: TrustStoreType,
  name: string,
): Promise<{ name: string; certificates: Certificate[] }[] | undefined> {
  const files = await readTrustStoreFiles(configDir, type, name);
  if (files === undefined) return undefined;
  buildTrustStore(type, name, files);
  return files.map((f) => ({ name: f.name, certificates: parseCertificateFile(f.bytes) }));
}

/**
 * `cert add --type T --store NAME FILE...`: validates like the verifier will, then copies.
 * A certificate the store already holds is reported and not added again; a different file of
 * the same name is never overwritten.
 */
export async function certAddCommand(
  files: readonly string[],
  opts: { configDir: string; type?: string; store?: string },
  io: CliIo,
): Promise<number> {
  const type = storeType(opts.type);
  const store = storeName(opts.store);
  if (files.length === 0)
    throw new PortcullisError('ERR_INPUT_INVALID', 'cert add needs at least one certificate file');
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
  buildTrustStore(type, store, inputs);
  const existing = (await storeFiles(opts.configDir, type, store)) ?? [];
  const held = new Map<string, string>();
  for (const f of existing) for (const c of f.certificates) held.set(c.sha256, f.name);
  const dir = trustStoreDir(opts.configDir, type, store);
  let added = 0;
  for (const input of inputs) {
    const certs = parseCertificateFile(input.bytes);
    const already = certs.filter((c) => held.has(c.sha256));
    if (already.length === certs.length) {
      for (const c of already)
        io.stdout(
          `${input.path}: certificate ${c.subject} (sha256 ${c.sha256}) is already in trust store ${type}:${store} as ${held.get(c.sha256)}; not added\n`,
        );
      continue;
    }
    if (existing.some((f) => f.name === input.name) || inputs.filter((i) => i.name === input.name).length > 1) {
      throw new PortcullisError(
        'ERR_INPUT_INVALID',
        `trust store ${type}:${store} already has a different file named ${input.name}: rename the file to add it`,
      );
    }
    await mkdir(dir, { recursive: true });
    await copyFile(input.path, join(dir, input.name));
    for (const c of certs) held.set(c.sha256, input.name);
    added++;
    io.stdout(`added ${input.path} to trust store ${type}:${store} (${join(dir, input.name)})\n`);
  }
  if (added === 0) io.stdout(`nothing added: trust store ${type}:${store} already holds every certificate given\n`);
  return EXIT.ok;
}

interface CertRow {
  type: string;
  store: string;
  file: string;
  subject: string;
  sha256: string;
  notAfter: string;
}

/** `cert list [--type T] [--store NAME]`: every store (or the ones named) with each file's certificates. */
export async function certListCommand(
  opts: { configDir: string; output?: string; type?: string; store?: string },
  io: CliIo,
): Promise<number> {
  const format = outputFormat(opts.output);
  const onlyType = opts.type === undefined ? undefined : storeType(opts.type);
  const rows: CertRow[] = [];
  for (const s of await listTrustStores(opts.configDir)) {
    if (onlyType !== undefined && s.type !== onlyType) continue;
    if (opts.store !== undefined && s.name !== opts.store) continue;
    for (const f of (await storeFiles(opts.configDir, s.type, s.name)) ?? []) {
      for (const c of f.certificates)
        rows.push({
          type: s.type,
          store: s.name,
          file: f.name,
          subject: c.subject,
          sha256: c.sha256,
          notAfter: c.notAfter.toISOString(),
        });
    }
  }
  if (format === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
  else if (rows.length === 0) io.stdout('no trust store certificates\n');
  else
    io.stdout(
      table(
        ['STORE TYPE', 'STORE NAME', 'CERTIFICATE', 'SUBJECT', 'SHA-256', 'EXPIRES'],
        rows.map((r) => [r.type, r.store, r.file, r.subject, r.sha256, r.notAfter]),
      ),
    );
  return EXIT.ok;
}

function describeCertificate(c: Certificate): Record<string, string | boolean> {
  return {
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    validFrom: c.notBefore.toISOString(),
    validUntil: c.notAfter.toISOString(),
    sha256Fingerprint: c.sha256,
    key: keySpecName(c.key),
    isCA: c.basicConstraints?.ca === true,
    selfSigned: c.selfIssued,
  };
}

/** `cert show --type T --store NAME FILE`: every certificate of the file, leaf first as stored. */
export async function certShowCommand(
  file: string,
  opts: { configDir: string; type?: string; store?: string; output?: string },
  io: CliIo,
): Promise<number> {
  const format = outputFormat(opts.output);
  const type = storeType(opts.type);
  const store = storeName(opts.store);
  const name = fileName(file);
  const found = (await storeFiles(opts.configDir, type, store))?.find((f) => f.name === name);
  if (found === undefined)
    throw new PortcullisError('ERR_CERT_NOT_FOUND', `trust store ${type}:${store} has no certificate file ${name}`);
  const views = found.certificates.map(describeCertificate);
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ type, store, file: name, certificates: views }, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines = [`${type}:${store}/${name}`];
  views.forEach((v, i) => {
    const last = i === views.length - 1;
    lines.push(`${last ? '└──' : '├──'} certificate ${i + 1} of ${views.length}`);
    const pre = last ? '    ' : '│   ';
    const fields: [string, string][] = [
      ['subject', v.subject as string],
      ['issuer', v.issuer as string],
      ['serial number', v.serialNumber as string],
      ['valid from', v.validFrom as string],
      ['valid until', v.validUntil as string],
      ['SHA-256 fingerprint', v.sha256Fingerprint as string],
      ['key', v.key as string],
      ['CA', v.isCA ? 'yes' : 'no'],
      ['self-signed', v.selfSigned ? 'yes' : 'no'],
    ];
    fields.forEach(([k, val], j) => lines.push(`${pre}${j === fields.length - 1 ? '└──' : '├──'} ${k}: ${val}`));
  });
  io.stdout(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** `cert delete --type T --store NAME (FILE | --all) --yes`: there is no prompt, so --yes is the confirmation. */
export async function certDeleteCommand(
  file: string | undefined,
  opts: { configDir: string; type?: string; store?: string; all?: boolean; yes?: boolean },
  io: CliIo,
): Promise<number> {
  const type = storeType(opts.type);
  const store = storeName(opts.store);
  if ((file === undefined) === (opts.all !== true))
    throw new PortcullisError('ERR_INPUT_INVALID', 'give a certificate file name or --all, not both');
  const dir = trustStoreDir(opts.configDir, type, store);
  const files = await readTrustStoreFiles(opts.configDir, type, store);
  if (files === undefined)
    throw new PortcullisError('ERR_TRUSTSTORE_NOT_FOUND', `trust store ${type}:${store} does not exist (${dir})`);
  const doomed = opts.all === true ? files.map((f) => f.name) : [fileName(file as string)];
  if (opts.all !== true && !files.some((f) => f.name === doomed[0]))
    throw new PortcullisError(
      'ERR_CERT_NOT_FOUND',
      `trust store ${type}:${store} has no certificate file ${doomed[0] as string}`,
    );
  if (opts.yes !== true) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `deleting ${opts.all === true ? `all ${doomed.length} certificate file(s) of` : `${doomed[0] as string} from`} trust store ${type}:${store} needs --yes (there is no prompt)`,
    );
  }
  for (const name of doomed) {
    await rm(join(dir, name));
    io.stdout(`Successfully deleted ${name} from trust store ${type}:${store}\n`);
  }
  // An empty store is an error for verification (notation's rule): remove the directory with its last file.
  if (doomed.length === files.length) {
    await rmdir(dir).catch(() => undefined);
    io.stdout(
      `trust store ${type}:${store} is empty and was removed; trust policies that name it fail until it holds a certificate again\n`,
    );
  }
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
  if (!TRUST_STORE_NAME.test(name))
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `key name "${name}" must match [a-zA-Z0-9_.-]+ (it names a trust store)`,
    );
  const keyType = opts.keyType ?? 'rsa';
  if (keyType !== 'rsa' && keyType !== 'ec')
    throw new PortcullisError('ERR_INPUT_INVALID', `--key-type must be rsa or ec, got "${keyType}"`);
  const bits = positiveInteger('--bits', opts.bits, keyType === 'rsa' ? 3072 : 256);
  const days = positiveInteger('--days', opts.days, 365);
  const keys = await readSigningKeys(opts.configDir);
  if (keys.keys.some((k) => k.name === name))
    throw new PortcullisError('ERR_KEY_EXISTS', `signing key "${name}" already exists`);
  let generated;
  try {
    // Valid from five minutes ago: a signature timestamped right away has a time range (the TSA's
    // accuracy) that would otherwise start before the certificate, and machines' clocks differ.
    generated = await generateTestCertificate({
      name,
      keyType,
      bits,
      notBefore: new Date(io.now().getTime() - BACKDATE_MS),
      days,
    });
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
      `  key:         ${keyPath}\n  certificate: ${certPath}\n  trust store: ca:${name} (certificate added)${makeDefault ? '\n  set as the default signing key' : ''}\n`,
  );
  return EXIT.ok;
}
