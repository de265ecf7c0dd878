import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The notation-compatible configuration directory: `--config-dir`, else `$NOTATION_CONFIG`,
 * else `$XDG_CONFIG_HOME/notation`, else `~/.config/notation` — where notation keeps it on Linux.
 */
export function resolveConfigDir(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  if (env.NOTATION_CONFIG !== undefined && env.NOTATION_CONFIG !== '') return env.NOTATION_CONFIG;
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'notation');
}

export const TRUST_POLICY_FILES = ['trustpolicy.oci.json', 'trustpolicy.json'] as const;

export function trustStoreDir(configDir: string, type: string, name: string): string {
  return join(configDir, 'truststore', 'x509', type, name);
}
