import { PortcullisError } from '../../errors/index.js';
import { storeDockerLogin } from '../../registry/index.js';
import { EXIT, type CliIo } from '../io.js';

export interface LoginCommandOptions {
  readonly username?: string;
  readonly password?: string;
  readonly passwordStdin?: boolean;
}

/** `portcullis login <registry> -u NAME (-p PASSWORD | --password-stdin)`: writes auths[registry] to the Docker config. */
export async function loginCommand(registry: string, opts: LoginCommandOptions, io: CliIo): Promise<number> {
  if (!/^[a-zA-Z0-9.-]+(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/.test(registry)) {
    throw new PortcullisError('ERR_INPUT_INVALID', `"${registry}" is not a registry host (host[:port])`);
  }
  if (opts.username === undefined || opts.username === '') throw new PortcullisError('ERR_INPUT_INVALID', 'login needs --username');
  if ((opts.password === undefined) === (opts.passwordStdin !== true)) {
    throw new PortcullisError('ERR_INPUT_INVALID', 'give exactly one of --password and --password-stdin');
  }
  const password = opts.password ?? (await io.readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new PortcullisError('ERR_INPUT_INVALID', 'the password is empty');
  const path = await storeDockerLogin(registry, { username: opts.username, password }, { env: io.env });
  io.stdout(`Login credentials for ${registry} stored in ${path}\n`);
  return EXIT.ok;
}
