import { PortcullisError } from '../../errors/index.js';
import { canonicalRegistry } from '../../reference/index.js';
import { checkLogin, removeLogin, saveLogin } from '../../registry/index.js';
import { EXIT, type CliIo } from '../io.js';
import { positiveInteger } from '../options.js';
import { readRegistryCa } from '../registry-options.js';
import { USER_AGENT } from '../../util/index.js';

export interface LoginCommandOptions {
  readonly username?: string;
  readonly password?: string;
  readonly passwordStdin?: boolean;
  readonly plainHttp?: boolean;
  readonly registryCa?: string;
  readonly timeout?: string;
}

/**
 * A registry as references name it (`LOCALHOST:05000` is `localhost:5000`), so the stored key matches what later
 * commands look up.
 */
function registryName(registry: string): string {
  if (!/^[a-zA-Z0-9.-]+(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/.test(registry)) {
    throw new PortcullisError('ERR_INPUT_INVALID', `"${registry}" is not a registry host (host[:port])`);
  }
  const canonical = canonicalRegistry(registry);
  if ('error' in canonical) throw new PortcullisError('ERR_INPUT_INVALID', `"${registry}": ${canonical.error}`);
  return canonical.value;
}

/**
 * `portcullis login <registry> -u NAME (-p PASSWORD | --password-stdin)`: checks the
 * credentials against the registry first (/v2/ and its challenge, a token from the token server
 * where it asks for one), then stores them as docker does — through the config's credential
 * helper when it names one, else in config.json's auths.
 */
export async function loginCommand(registry: string, opts: LoginCommandOptions, io: CliIo): Promise<number> {
  const host = registryName(registry);
  if (opts.username === undefined || opts.username === '')
    throw new PortcullisError('ERR_INPUT_INVALID', 'login needs --username');
  if (opts.username.includes(':'))
    throw new PortcullisError('ERR_INPUT_INVALID', 'a registry username cannot contain ":"');
  if ((opts.password === undefined) === (opts.passwordStdin !== true)) {
    throw new PortcullisError('ERR_INPUT_INVALID', 'give exactly one of --password and --password-stdin');
  }
  if (opts.password !== undefined)
    io.stderr(
      'warning: a password on the command line stays in the shell history and the process list; prefer --password-stdin\n',
    );
  const password = opts.password ?? (await io.readStdin()).replace(/\r?\n$/, '');
  if (password === '') throw new PortcullisError('ERR_INPUT_INVALID', 'the password is empty');
  const ca = await readRegistryCa(opts.registryCa);
  const credential = { username: opts.username, password };
  const checked = await checkLogin(host, credential, {
    timeoutMs: positiveInteger('--timeout', opts.timeout, 30) * 1000,
    userAgent: USER_AGENT,
    ...(opts.plainHttp === true ? { plainHttp: true } : ca !== undefined ? { plainHttp: false } : {}),
    ...(ca === undefined ? {} : { tls: () => ({ ca: ca as string }) }),
  });
  if (checked.scheme === 'none')
    io.stderr(`warning: ${host} answers without authentication, so the credentials could not be checked\n`);
  const stored = await saveLogin(host, credential, { env: io.env });
  if (stored.where === 'file')
    io.stderr(
      `warning: the password is stored unencrypted in ${stored.path}; configure a credential helper (credsStore) to avoid it\n`,
    );
  io.stdout(
    `Login Succeeded: credentials for ${host} ${stored.where === 'helper' ? `stored by docker-credential-${stored.helper}` : `stored in ${stored.path}`}\n`,
  );
  return EXIT.ok;
}

/** `portcullis logout <registry>`: erases the credentials from the helper and config.json. */
export async function logoutCommand(registry: string, _opts: unknown, io: CliIo): Promise<number> {
  const host = registryName(registry);
  const removed = await removeLogin(host, { env: io.env });
  if (removed.length === 0) io.stdout(`Not logged in to ${host}: no stored credentials\n`);
  else io.stdout(`Removed the login credentials for ${host} (${removed.join(', ')})\n`);
  return EXIT.ok;
}
