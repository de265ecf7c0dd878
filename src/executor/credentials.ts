import { createHash } from 'node:crypto';
import { canonicalRegistry } from '../reference/index.js';
import { credentialIdentity, type Credential, type CredentialProvider } from '../registry/index.js';
import type { RequestCredentials } from './types.js';

/**
 * Whose credentials a registry call uses, and the identity every cache key carries.
 *
 * Per registry host: the pod's pull secrets first (in the order the pod lists them, the first
 * with an entry for the host wins, as the kubelet tries them), then the configured default
 * provider, else anonymous. The identity is `pod:<secret identity>` or `default:<hash>` or
 * `anonymous`, so a verdict, tag resolution or referrer list fetched with one tenant's secret is
 * never served to a pod without it.
 */

export interface ChosenCredential {
  /** Cache-key identity; never the secret itself. */
  readonly identity: string;
  /** For CallOptions.credentials; undefined = anonymous. */
  readonly provider: CredentialProvider | undefined;
}

/** Turns the names of a pod's `imagePullSecrets` into decoded credentials (missing names are skipped, as the kubelet does). */
export interface PullSecretResolver {
  /**
   * Whether the resolver can find credentials without pod-listed names (a service account's
   * imagePullSecrets, a cluster-wide secret); then it is asked for every image.
   */
  readonly resolvesWithoutNames?: boolean;
  resolve(
    namespace: string,
    names: readonly string[],
    options?: { readonly serviceAccountName?: string },
  ): Promise<readonly RequestCredentials[]>;
}

type AuthEntry = RequestCredentials['auths'][string];

const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** The docker config key forms that name `host`: `host`, `https://host`, `http://host`, with or without `/v1/`, `/v2/`. */
function entryFor(auths: RequestCredentials['auths'], host: string): AuthEntry | undefined {
  const candidates = host === 'docker.io' ? DOCKER_HUB_KEYS : [host];
  for (const key of candidates) {
    if (Object.hasOwn(auths, key)) return auths[key];
  }
  for (const [key, value] of Object.entries(auths)) {
    const bare = key.replace(/^https?:\/\//i, '').replace(/\/+(v1|v2)?\/?$/, '');
    if (bare === host || (host === 'docker.io' && DOCKER_HUB_KEYS.includes(bare))) return value;
    // `host` is canonical (src/reference); a secret may spell the registry otherwise (`LOCALHOST:05000`).
    const canonical = canonicalRegistry(bare);
    if (
      'value' in canonical &&
      (canonical.value === host || (host === 'docker.io' && DOCKER_HUB_KEYS.includes(canonical.value)))
    )
      return value;
  }
  return undefined;
}

/** A docker config entry as a registry Credential (`auth` is base64 `user:password`). */
export function toCredential(entry: AuthEntry): Credential | undefined {
  if (entry.identitytoken !== undefined && entry.identitytoken !== '') return { identityToken: entry.identitytoken };
  if (entry.username !== undefined && entry.password !== undefined && entry.username !== '')
    return { username: entry.username, password: entry.password };
  if (entry.auth !== undefined && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

const fixed = (credential: Credential): CredentialProvider => ({ get: async () => credential });

const ANONYMOUS: ChosenCredential = Object.freeze({ identity: 'anonymous', provider: undefined });

/** The credential a request brings for one host (the first of its credentials with an entry for it), if any. */
export function chooseRequestCredential(
  host: string,
  requestCredentials: readonly RequestCredentials[],
): ChosenCredential | undefined {
  for (const rc of requestCredentials) {
    const entry = entryFor(rc.auths, host);
    const credential = entry === undefined ? undefined : toCredential(entry);
    if (credential !== undefined) return { identity: `pod:${rc.identity}`, provider: fixed(credential) };
  }
  return undefined;
}

/** Picks the credential for one registry host. */
export async function chooseCredential(
  host: string,
  requestCredentials: readonly RequestCredentials[],
  defaults: CredentialProvider | undefined,
): Promise<ChosenCredential> {
  const fromRequest = chooseRequestCredential(host, requestCredentials);
  if (fromRequest !== undefined) return fromRequest;
  const credential = defaults === undefined ? undefined : await defaults.get(host);
  if (credential === undefined) return ANONYMOUS;
  return { identity: `default:${credentialIdentity(credential)}`, provider: fixed(credential) };
}

// --- pull secrets from Secret objects ---------------------------------------------------------

interface SecretObject {
  readonly kind?: unknown;
  readonly type?: unknown;
  readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown; readonly resourceVersion?: unknown };
  readonly data?: Record<string, unknown>;
  readonly stringData?: Record<string, unknown>;
}

function secretValue(secret: SecretObject, key: string): string | undefined {
  const text = secret.stringData?.[key];
  if (typeof text === 'string') return text;
  const b64 = secret.data?.[key];
  if (typeof b64 === 'string') return Buffer.from(b64, 'base64').toString('utf8');
  return undefined;
}

/** A `kubernetes.io/dockerconfigjson` (or legacy `kubernetes.io/dockercfg`) Secret as RequestCredentials; undefined for other Secrets. */
export function credentialsFromSecret(
  object: unknown,
  defaultNamespace = 'default',
): { namespace: string; name: string; credentials: RequestCredentials } | undefined {
  const secret = object as SecretObject | null;
  if (secret === null || typeof secret !== 'object' || secret.kind !== 'Secret') return undefined;
  const name = secret.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const namespace = typeof secret.metadata?.namespace === 'string' ? secret.metadata.namespace : defaultNamespace;
  let auths: unknown;
  let raw: string | undefined;
  try {
    if (secret.type === 'kubernetes.io/dockerconfigjson') {
      raw = secretValue(secret, '.dockerconfigjson');
      auths = raw === undefined ? undefined : (JSON.parse(raw) as { auths?: unknown }).auths;
    } else if (secret.type === 'kubernetes.io/dockercfg') {
      raw = secretValue(secret, '.dockercfg');
      auths = raw === undefined ? undefined : JSON.parse(raw);
    } else {
      return undefined;
    }
  } catch {
    return undefined; // malformed: the kubelet cannot use it either
  }
  if (raw === undefined || auths === null || typeof auths !== 'object' || Array.isArray(auths)) return undefined;
  const clean: Record<string, AuthEntry> = {};
  for (const [host, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (entry === null || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const pick = (k: string): string | undefined => (typeof e[k] === 'string' ? (e[k] as string) : undefined);
    const username = pick('username');
    const password = pick('password');
    const auth = pick('auth');
    const identitytoken = pick('identitytoken');
    clean[host] = {
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(auth === undefined ? {} : { auth }),
      ...(identitytoken === undefined ? {} : { identitytoken }),
    };
  }
  // The identity changes with the content (or the resourceVersion the API server sets), so a
  // rotated secret never reuses the cache entries of the old one.
  const rv = secret.metadata?.resourceVersion;
  const version =
    typeof rv === 'string' && rv !== '' ? rv : `sha256-${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
  return { namespace, name, credentials: { identity: `secret:${namespace}/${name}@${version}`, auths: clean } };
}

/**
 * Pull secrets from a list of Kubernetes objects (a policy directory's Secrets today, an
 * informer's cache later): `update(objects)` swaps the whole set atomically. Objects that are not
 * docker-config Secrets are ignored. Also usable as an in-memory resolver in tests.
 */
export class ResourcePullSecretResolver implements PullSecretResolver {
  #byKey: ReadonlyMap<string, RequestCredentials> = new Map();
  readonly #defaultNamespace: string;

  constructor(objects: readonly unknown[] = [], defaultNamespace = 'default') {
    this.#defaultNamespace = defaultNamespace;
    this.update(objects);
  }

  update(objects: readonly unknown[]): void {
    const next = new Map<string, RequestCredentials>();
    for (const o of objects) {
      const found = credentialsFromSecret(o, this.#defaultNamespace);
      if (found !== undefined) next.set(`${found.namespace}/${found.name}`, found.credentials);
    }
    this.#byKey = next;
  }

  async resolve(namespace: string, names: readonly string[]): Promise<readonly RequestCredentials[]> {
    const map = this.#byKey;
    const out: RequestCredentials[] = [];
    for (const name of names) {
      const c = map.get(`${namespace}/${name}`);
      if (c !== undefined) out.push(c);
    }
    return out;
  }
}
