import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import { loadTrustPolicy, type TrustPolicy } from '../policy/index.js';
import { TRUST_POLICY_FILES } from './paths.js';

export interface LoadedTrustPolicy {
  readonly path: string;
  readonly text: string;
  readonly policy: TrustPolicy;
}

/** Reads the policy text: trustpolicy.oci.json is preferred over the legacy trustpolicy.json, as in notation. */
export async function readTrustPolicyText(configDir: string): Promise<{ path: string; text: string }> {
  for (const name of TRUST_POLICY_FILES) {
    const path = join(configDir, name);
    try {
      return { path, text: await readFile(path, 'utf8') };
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new PortcullisError(
          'ERR_POLICY_INVALID',
          `cannot read trust policy "${path}": ${(cause as Error).message}`,
          { cause },
        );
      }
    }
  }
  throw new PortcullisError(
    'ERR_POLICY_NOT_FOUND',
    `no trust policy found: expected ${TRUST_POLICY_FILES.map((f) => join(configDir, f)).join(' or ')}; create one with "portcullis policy init" or "portcullis policy import FILE"`,
    { context: { subject: configDir } },
  );
}

/** Reads and validates the trust policy document of a configuration directory (or an explicit file). */
export async function loadTrustPolicyFile(configDir: string, file?: string): Promise<LoadedTrustPolicy> {
  let path: string;
  let text: string;
  if (file === undefined) {
    ({ path, text } = await readTrustPolicyText(configDir));
  } else {
    path = file;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'ERR_POLICY_NOT_FOUND' : 'ERR_POLICY_INVALID';
      throw new PortcullisError(code, `cannot read trust policy "${file}": ${(cause as Error).message}`, { cause });
    }
  }
  try {
    return { path, text, policy: loadTrustPolicy(text) };
  } catch (error) {
    if (error instanceof PortcullisError) throw error.withContext({ subject: path });
    throw error;
  }
}
