import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import type { TrustStoreRef, TrustStoreType } from '../policy/index.js';
import { type Certificate, type CertificateCache, buildTrustStore, type TrustStoreFile } from '../x509/index.js';
import { trustStoreDir } from './paths.js';

/** A trust store file is a certificate bundle; anything larger is not one. */
const MAX_TRUST_STORE_FILE_BYTES = 1024 * 1024;

/**
 * The regular files of one named store `truststore/x509/<type>/<name>/`, sorted by name, or
 * undefined when the store does not exist. Symlinks and subdirectories are rejected, as
 * notation does (the spec's "ignore with a warning" would let a stray directory silently change
 * what is trusted).
 */
export async function readTrustStoreFiles(
  configDir: string,
  type: TrustStoreType,
  name: string,
): Promise<TrustStoreFile[] | undefined> {
  const dir = trustStoreDir(configDir, type, name);
  let info;
  try {
    info = await lstat(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PortcullisError(
      'ERR_TRUSTSTORE_INVALID',
      `cannot read trust store "${dir}": ${(cause as Error).message}`,
      { cause },
    );
  }
  if (info.isSymbolicLink())
    throw new PortcullisError('ERR_TRUSTSTORE_INVALID', `trust store "${dir}" is a symlink, which is not allowed`);
  if (!info.isDirectory())
    throw new PortcullisError('ERR_TRUSTSTORE_INVALID', `trust store "${dir}" is not a directory`);
  const files: TrustStoreFile[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink())
      throw new PortcullisError(
        'ERR_TRUSTSTORE_INVALID',
        `"${path}" is a symlink; trust store files must be regular files`,
      );
    if (!entry.isFile())
      throw new PortcullisError(
        'ERR_TRUSTSTORE_INVALID',
        `"${path}" is not a regular file; trust stores hold certificate files only`,
      );
    const size = (await lstat(path)).size;
    if (size > MAX_TRUST_STORE_FILE_BYTES)
      throw new PortcullisError(
        'ERR_TRUSTSTORE_INVALID',
        `"${path}" is ${size} bytes, over the ${MAX_TRUST_STORE_FILE_BYTES}-byte cap`,
      );
    files.push({ name: entry.name, bytes: await readFile(path) });
  }
  return files;
}

/** Reads and validates one named store (see readTrustStoreFiles); undefined when it does not exist. */
export async function readTrustStore(
  configDir: string,
  type: TrustStoreType,
  name: string,
  cache?: CertificateCache,
): Promise<Certificate[] | undefined> {
  const files = await readTrustStoreFiles(configDir, type, name);
  return files === undefined ? undefined : buildTrustStore(type, name, files, cache);
}

/** Loads the stores a policy references into an immutable map for the verify core. */
export async function loadTrustStores(configDir: string, refs: readonly TrustStoreRef[], cache?: CertificateCache) {
  const stores = new Map<string, readonly Certificate[]>();
  for (const ref of refs) {
    const key = `${ref.type}:${ref.name}`;
    if (stores.has(key)) continue;
    const certs = await readTrustStore(configDir, ref.type, ref.name, cache);
    if (certs !== undefined) stores.set(key, certs);
  }
  return {
    get: (type: TrustStoreType, name: string) => stores.get(`${type}:${name}`),
  };
}

/** Every store on disk, for `cert list`. */
export async function listTrustStores(configDir: string): Promise<{ type: TrustStoreType; name: string }[]> {
  const out: { type: TrustStoreType; name: string }[] = [];
  for (const type of ['ca', 'signingAuthority', 'tsa'] as const) {
    try {
      for (const entry of await readdir(join(configDir, 'truststore', 'x509', type), { withFileTypes: true })) {
        if (entry.isDirectory()) out.push({ type, name: entry.name });
      }
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    }
  }
  return out;
}
