import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import { loadBlobTrustPolicy, type BlobTrustPolicy } from '../policy/index.js';

import { BLOB_TRUST_POLICY_FILE } from './paths.js';

export interface LoadedBlobTrustPolicy {
  readonly path: string;
  readonly text: string;
  readonly policy: BlobTrustPolicy;
}

/**
 * Reads and validates `trustpolicy.blob.json` of a configuration directory (or an explicit file):
 * notation's blob trust policy, whose rules src/policy/blob.ts applies.
 */
export async function loadBlobTrustPolicyFile(configDir: string, file?: string): Promise<LoadedBlobTrustPolicy> {
  const path = file ?? join(configDir, BLOB_TRUST_POLICY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PortcullisError(
        'ERR_POLICY_NOT_FOUND',
        file === undefined
          ? `no blob trust policy found: expected ${path}; create one with "portcullis blob policy init" or "portcullis blob policy import FILE"`
          : `cannot read blob trust policy "${file}": ${(cause as Error).message}`,
        { cause, context: { subject: path } },
      );
    }
    throw new PortcullisError(
      'ERR_POLICY_INVALID',
      `cannot read blob trust policy "${path}": ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  try {
    return { path, text, policy: loadBlobTrustPolicy(text) };
  } catch (error) {
    if (error instanceof PortcullisError) throw error.withContext({ subject: path });
    throw error;
  }
}

/**
 * Makes `text` (validated by the caller) the blob trust policy: written to trustpolicy.blob.json
 * (mode 0600, through a temporary file and a rename); an existing one is replaced only with `force`.
 */
export async function writeBlobTrustPolicy(
  configDir: string,
  text: string,
  options: { force: boolean },
): Promise<{ path: string; replaced: boolean }> {
  const path = join(configDir, BLOB_TRUST_POLICY_FILE);
  let exists = false;
  try {
    await stat(path);
    exists = true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new PortcullisError('ERR_POLICY_INVALID', `cannot read "${path}": ${(cause as Error).message}`, { cause });
  }
  if (exists && !options.force) {
    throw new PortcullisError(
      'ERR_POLICY_EXISTS',
      `a blob trust policy already exists (${path}): add --force to replace it (portcullis blob policy show > old-blob-policy.json keeps a copy)`,
      { context: { subject: path } },
    );
  }
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
  return { path, replaced: exists };
}
