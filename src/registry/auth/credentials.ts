import { createHash } from 'node:crypto';

/** A username and password, or an identity (refresh) token for the registry's token server. */
export type Credential = { readonly username: string; readonly password: string } | { readonly identityToken: string };

/**
 * Where credentials for a registry come from. `host` is the registry as written in image
 * references (`docker.io`, `localhost:5000`); undefined means anonymous.
 */
export interface CredentialProvider {
  get(host: string): Promise<Credential | undefined>;
}

/** The keys under which Docker stores Docker Hub credentials, most specific first. */
export const DOCKER_HUB_KEYS: readonly string[] = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
];

/** Docker Hub and its aliases are one registry for credentials. */
export function isDockerHub(host: string): boolean {
  return (
    host === 'docker.io' ||
    host === 'index.docker.io' ||
    host === 'registry-1.docker.io' ||
    host === 'https://index.docker.io/v1/'
  );
}

/** Fixed credentials by host (Docker Hub aliases resolved). */
export class StaticCredentials implements CredentialProvider {
  readonly #byHost: ReadonlyMap<string, Credential>;

  constructor(byHost: Readonly<Record<string, Credential>> | ReadonlyMap<string, Credential>) {
    this.#byHost = byHost instanceof Map ? byHost : new Map(Object.entries(byHost));
  }

  async get(host: string): Promise<Credential | undefined> {
    const direct = this.#byHost.get(host);
    if (direct !== undefined) return direct;
    if (isDockerHub(host)) {
      for (const key of DOCKER_HUB_KEYS) {
        const found = this.#byHost.get(key);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }
}

/** No credentials: every registry is accessed anonymously. */
export const ANONYMOUS: CredentialProvider = { get: async () => undefined };

/**
 * A short stable identity for a credential, so caches never hand one identity's token to
 * another (tenants sharing a client). Secrets are hashed, never kept in keys.
 */
export function credentialIdentity(credential: Credential | undefined): string {
  if (credential === undefined) return 'anonymous';
  const secret =
    'identityToken' in credential ? `t:${credential.identityToken}` : `u:${credential.username}:${credential.password}`;
  const label = 'identityToken' in credential ? 'token' : `user ${credential.username}`;
  return `${label}#${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}
