import { Authenticator } from './auth/authenticator.js';
import { StaticCredentials } from './auth/credentials.js';
import { statusError } from './body.js';
import { operationError, startOperation } from './operation.js';
import { discard, Transport, type TransportOptions } from './transport.js';

export interface LoginCheck {
  /** How the registry authenticates: `none` when /v2/ answers without credentials. */
  readonly scheme: 'none' | 'basic' | 'bearer';
}

/**
 * What `docker login` does before it stores anything: GET /v2/ anonymously; on the 401
 * challenge, answer it with the credentials (Basic, or a token from the realm the challenge
 * names) and GET /v2/ again, which must answer 200. Throws ERR_REGISTRY_UNAUTHORIZED when the
 * registry or its token server rejects the credentials, ERR_REGISTRY_UNREACHABLE/TLS/TIMEOUT
 * when it cannot be asked — so nothing is stored for a registry that was never reached.
 */
export async function checkLogin(
  registry: string,
  credential: { username: string; password: string },
  options: TransportOptions & { timeoutMs: number },
): Promise<LoginCheck> {
  const transport = new Transport(options);
  using op = startOperation({ registry, what: 'login', timeoutMs: options.timeoutMs });
  try {
    const url = new URL('/v2/', transport.baseUrl(registry));
    const first = await transport.send(op, { method: 'GET', url });
    if (first.status === 200) {
      await discard(first);
      return { scheme: 'none' };
    }
    if (first.status !== 401) throw await statusError(op, first);
    const auth = new Authenticator({ transport, credentials: new StaticCredentials({ [registry]: credential }) });
    const learned = auth.learn(op, first.headers['www-authenticate']);
    await discard(first);
    if (learned === undefined)
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', '/v2/ answered 401 without a Basic or Bearer challenge');
    const authorization = await auth.authorization(op, [], true);
    if (authorization === undefined)
      throw operationError(op, 'ERR_REGISTRY_UNAUTHORIZED', 'no credentials to answer the challenge');
    const second = await transport.send(op, { method: 'GET', url, headers: { authorization } });
    if (second.status === 200) {
      await discard(second);
      return { scheme: authorization.startsWith('Bearer ') ? 'bearer' : 'basic' };
    }
    if (second.status === 401 || second.status === 403) {
      await discard(second);
      throw operationError(
        op,
        'ERR_REGISTRY_UNAUTHORIZED',
        `the registry rejected the credentials of user "${credential.username}" (${second.status}); nothing was stored`,
      );
    }
    throw await statusError(op, second);
  } finally {
    await transport.close();
  }
}
