import { createHash } from 'node:crypto';
import type { Credential } from './credentials.js';

/**
 * Registry credentials from Kubernetes pull secrets: Docker config Secrets
 * (`kubernetes.io/dockerconfigjson`, legacy `kubernetes.io/dockercfg`) decoded into
 * RequestCredentials, and the resolver interface that turns a pod's pull secret names into
 * them (the Kubernetes API resolver is src/kube/pull-secrets.ts; `ResourcePullSecretResolver`
 * serves a policy directory's Secrets and tests). Choosing among them per host: choose.ts.
 */

/** Registry credentials that come with a request (a pod's imagePullSecrets, already decoded). */
/** Registry credentials that come with a request (a pod's imagePullSecrets, already decoded). */
/** What decides an image no verdict could be reached for (registry down, deadline): deny (`fail`) or allow. */
export type FailurePolicy = 'fail' | 'ignore';

export interface RequestCredentials {
  /** Stable identity for cache keys, e.g. `secret:team-a/regcred@<resourceVersion>`; never the secret itself. */
  readonly identity: string;
  /** Docker config.json `auths` content: registry host → { username, password } or { auth }. */
  readonly auths: Readonly<
    Record<
      string,
      {
        readonly username?: string;
        readonly password?: string;
        readonly auth?: string;
        readonly identitytoken?: string;
      }
    >
  >;
}

/**
 * Turns the names of a pod's `imagePullSecrets` into decoded credentials (missing names are skipped, as the kubelet
 * does).
 */
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

/**
 * A `kubernetes.io/dockerconfigjson` (or legacy `kubernetes.io/dockercfg`) Secret as RequestCredentials; undefined for
 * other Secrets.
 */
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

/**
 * A docker-config Secret as RequestCredentials; undefined for other types and malformed content.
 * `namespace`/`name` are the ones asked for (the object's own metadata is checked when present).
 */
export function credentialsFromDockerSecret(
  object: unknown,
  namespace: string,
  name: string,
): RequestCredentials | undefined {
  if (!isObject(object)) return undefined;
  // One parser for docker-config Secrets (directory Secrets and the Kubernetes API's alike).
  const metadata = isObject(object['metadata']) ? object['metadata'] : {};
  const found = credentialsFromSecret(
    { ...object, kind: 'Secret', metadata: { ...metadata, name, namespace } },
    namespace,
  );
  return found === undefined
    ? undefined
    : Object.freeze({ ...found.credentials, auths: Object.freeze({ ...found.credentials.auths }) });
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
