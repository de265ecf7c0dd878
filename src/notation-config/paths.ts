import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The notation-compatible configuration directory: `--config-dir`, else `$NOTATION_CONFIG`,
 * else `$XDG_CONFIG_HOME/notation`, else `~/.config/notation` — where notation keeps it on Linux.
 * Always absolute (a relative one is taken from the working directory): paths written into
 * the directory, such as the key paths in signingkeys.json, must not depend on where the
 * command that wrote them ran.
 */
export function resolveConfigDir(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  if (env.NOTATION_CONFIG !== undefined && env.NOTATION_CONFIG !== '') return resolve(env.NOTATION_CONFIG);
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return resolve(base, 'notation');
}

export const TRUST_POLICY_FILES = ['trustpolicy.oci.json', 'trustpolicy.json'] as const;

export function trustStoreDir(configDir: string, type: string, name: string): string {
  return join(configDir, 'truststore', 'x509', type, name);
}

/** Operator-supplied CRLs (`crl/`) and OCSP responses (`ocsp/`), consulted before any revocation fetch. */
export function revocationMaterialDir(configDir: string): string {
  return join(configDir, 'revocation');
}

/** notation's blob trust policy (`notation blob policy`). */
export const BLOB_TRUST_POLICY_FILE = 'trustpolicy.blob.json';
