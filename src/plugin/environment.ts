/**
 * The environment a verification plugin runs with. The plugin contract hands a plugin its
 * command (argv[1]) and its request (stdin) and nothing else; everything a plugin needs beyond
 * that belongs in `pluginConfig`. So a plugin gets only what running a program needs — PATH (an
 * interpreter named by `#!/usr/bin/env`), HOME, TMPDIR, the locale and the time zone — and not
 * the verifier's credentials, registry tokens, proxy settings or Kubernetes service account
 * variables. An operator may pass more variables by name (`plugins.environment`).
 */
export const PLUGIN_BASE_ENVIRONMENT = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ'] as const;

/** Used when the verifier itself has no PATH (a minimal container). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The variables named (base ones plus `extra`) that are set in `from`, and nothing else. */
export function pluginEnvironment(
  from: Readonly<Record<string, string | undefined>>,
  extra: readonly string[] = [],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...PLUGIN_BASE_ENVIRONMENT, ...extra]) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  env['PATH'] ??= DEFAULT_PATH;
  return env;
}
