import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import { TRUST_POLICY_FILES } from './paths.js';

/** The trust policy files present in a configuration directory (the preferred name first). */
export async function existingTrustPolicyFiles(configDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of TRUST_POLICY_FILES) {
    const path = join(configDir, name);
    try {
      await stat(path);
      found.push(path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new PortcullisError('ERR_POLICY_INVALID', `cannot read "${path}": ${(cause as Error).message}`, {
          cause,
        });
    }
  }
  return found;
}

/**
 * Makes `text` (already validated by the caller) the trust policy of the directory, as
 * notation's `policy import` does: written to trustpolicy.oci.json (file mode 0600, through a
 * temporary file and a rename, so a crash never leaves half a policy), and the legacy
 * trustpolicy.json removed so that two documents never disagree. Refuses to replace an existing
 * policy unless `force`. Returns the path written and the legacy file removed, if any.
 */
export async function writeTrustPolicy(
  configDir: string,
  text: string,
  options: { force: boolean },
): Promise<{ path: string; removed?: string }> {
  const existing = await existingTrustPolicyFiles(configDir);
  if (existing.length > 0 && !options.force) {
    throw new PortcullisError(
      'ERR_POLICY_EXISTS',
      `a trust policy already exists (${existing.join(', ')}): add --force to replace it (portcullis policy show > old-policy.json keeps a copy)`,
      {
        context: { subject: existing[0] as string },
      },
    );
  }
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const path = join(configDir, TRUST_POLICY_FILES[0]);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
  await rename(temporary, path);
  const legacy = join(configDir, TRUST_POLICY_FILES[1]);
  if (existing.includes(legacy)) {
    await rm(legacy, { force: true });
    return { path, removed: legacy };
  }
  return { path };
}
