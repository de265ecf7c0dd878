import { readFile } from 'node:fs/promises';
import { PortcullisError } from '../errors/index.js';
import type { ImageReference } from '../reference/index.js';
import {
  DockerConfigCredentials,
  RegistryClient,
  StaticCredentials,
  type Credential,
  type CredentialProvider,
} from '../registry/index.js';
import type { CliIo } from './io.js';
import { positiveInteger } from './options.js';
import type { RegistryCliOptions } from './registry-flags.js';
import { USER_AGENT } from '../util/index.js';

export type { RegistryCliOptions } from './registry-flags.js';

/** Static credentials for the named registries first, then the Docker config (auths, credHelpers, credsStore). */
class LayeredCredentials implements CredentialProvider {
  constructor(
    private readonly first: CredentialProvider,
    private readonly then: CredentialProvider,
  ) {}

  async get(host: string): Promise<Credential | undefined> {
    return (await this.first.get(host)) ?? (await this.then.get(host));
  }
}

/**
 * A RegistryClient for a command: credentials from -u/-p for the registries the command names,
 * else from the Docker config; TLS with --registry-ca; plain HTTP only with --plain-http or for
 * loopback registries.
 */
export async function openRegistryClient(
  opts: RegistryCliOptions,
  registries: readonly ImageReference[],
  io: CliIo,
): Promise<RegistryClient> {
  if ((opts.username === undefined) !== (opts.password === undefined)) {
    throw new PortcullisError('ERR_INPUT_INVALID', '--username and --password go together');
  }
  const docker = await DockerConfigCredentials.load({ env: io.env });
  const credentials =
    opts.username === undefined
      ? docker
      : new LayeredCredentials(
          new StaticCredentials(
            Object.fromEntries(
              registries.map((r) => [
                r.registry,
                { username: opts.username as string, password: opts.password as string },
              ]),
            ),
          ),
          docker,
        );
  const ca = await readRegistryCa(opts.registryCa);
  const timeoutMs = positiveInteger('--timeout', opts.timeout, 30) * 1000;
  return new RegistryClient({
    credentials,
    timeoutMs,
    userAgent: USER_AGENT,
    // Loopback registries default to plain HTTP; naming a CA says the registry speaks TLS.
    ...(opts.plainHttp === true ? { plainHttp: true } : ca !== undefined ? { plainHttp: false } : {}),
    ...(ca === undefined ? {} : { tls: () => ({ ca: ca as string }) }),
  });
}

/** The PEM bundle `--registry-ca` names, read (undefined without the option). */
export async function readRegistryCa(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new PortcullisError('ERR_INPUT_INVALID', `cannot read --registry-ca "${path}": ${(cause as Error).message}`, {
      cause,
    });
  }
}
