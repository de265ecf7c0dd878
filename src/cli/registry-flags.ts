import type { Command } from 'commander';

/** Options every registry command takes (declared here, without loading the registry client). */
export interface RegistryCliOptions {
  readonly plainHttp?: boolean;
  readonly registryCa?: string;
  readonly username?: string;
  readonly password?: string;
  readonly timeout?: string;
  readonly insecureSkipTlsVerify?: boolean;
  readonly verbose?: boolean;
  readonly debug?: boolean;
}

/** `timeout`: the default of --timeout in seconds (copy, which moves layers, waits longer). */
export function addRegistryOptions(cmd: Command, timeout = '30'): Command {
  return cmd
    .option('--plain-http', 'use HTTP instead of HTTPS (loopback registries use HTTP without it)')
    .option(
      '--registry-ca <file>',
      'PEM CA bundle to trust for registry TLS (implies HTTPS, also for loopback registries)',
    )
    .option('-u, --username <name>', 'registry username (default: Docker config credentials)')
    .option('-p, --password <password>', 'registry password or token')
    .option('--timeout <seconds>', 'deadline of each registry request, blob transfers included', timeout);
}
