import type { KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { PortcullisError } from '../errors/index.js';
import { SingleFlight } from '../util/index.js';
import { credentialsFromDockerSecret, type PullSecretResolver, type RequestCredentials } from '../registry/index.js';
import { describeApiError, httpStatusOf, makeClients } from './client.js';

/**
 * Registry credentials from the Kubernetes API, as the kubelet would use them for a pod:
 *
 * 1. the pod's `spec.imagePullSecrets` (the names the HTTP layer passes), in the pod's order;
 * 2. when the pod lists none, the `imagePullSecrets` of its service account (`serviceAccountName`,
 *    default `default`) — the ServiceAccount admission plugin copies them into a Pod only when it
 *    has none, so this gives the same set for a Pod and for a Deployment's template;
 * 3. last, a cluster-wide Docker config Secret (`namespace/name`), the equivalent of the nodes'
 *    own registry credentials.
 *
 * Secrets of type `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`, `{"auths": {...}}`) and
 * the legacy `kubernetes.io/dockercfg` (`.dockercfg`, the auths map itself) are read; other types,
 * malformed content and missing names are skipped, as the kubelet skips them. The credential
 * identity (part of every cache key) is `secret:<namespace>/<name>@<resourceVersion>`: it changes
 * with every update of the Secret, and never contains the secret content.
 *
 * Reads are cached per Secret and ServiceAccount for `ttlMs` (not-found answers for
 * `negativeTtlMs`), at most `maxEntries`, least recently used evicted; concurrent misses share one
 * request. When the API fails, the last value read is used if there is one (however old); else
 * the error is thrown (the executor then skips the pull secrets, as the kubelet would).
 *
 * RBAC: `get` on secrets and serviceaccounts in the namespaces whose pods are checked.
 */

export interface PullSecretApi {
  /** The Secret object, or undefined when it does not exist. Throws for other failures. */
  readSecret(namespace: string, name: string): Promise<unknown>;
  /** The ServiceAccount object, or undefined when it does not exist. */
  readServiceAccount(namespace: string, name: string): Promise<unknown>;
}

export interface KubernetesPullSecretResolverOptions {
  readonly api?: PullSecretApi;
  readonly kubeConfig?: KubeConfig;
  /** `namespace/name` of a cluster-wide Docker config Secret used after the pod's own. */
  readonly defaultSecret?: string;
  /** How long a read Secret or ServiceAccount is reused. Default 30 s. */
  readonly ttlMs?: number;
  /** How long a not-found answer is reused. Default 5 s. */
  readonly negativeTtlMs?: number;
  /** Most cached objects. Default 1000. */
  readonly maxEntries?: number;
  /** Most pull secret names read for one request (pod's or service account's). Default 32. */
  readonly maxNames?: number;
  readonly now?: () => number;
}

export interface ResolveOptions {
  /** The pod's `spec.serviceAccountName`; default `default`. */
  readonly serviceAccountName?: string;
}

export const DEFAULT_TTL_MS = 30_000;
export const DEFAULT_NEGATIVE_TTL_MS = 5_000;
export const DEFAULT_MAX_ENTRIES = 1000;
export const DEFAULT_MAX_NAMES = 32;

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `namespace/name` → parts; throws ERR_CONFIG_INVALID otherwise. */
export function parseSecretRef(ref: string): { namespace: string; name: string } {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(ref);
  if (match === null)
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `the default pull secret ${JSON.stringify(ref)} is not namespace/name`,
    );
  return { namespace: match[1] as string, name: match[3] as string };
}

/** A value read from the API and when it stops being fresh (a stale one still serves while the API fails). */
interface Entry<T> {
  readonly value: T;
  readonly expires: number;
}

type SecretResult = RequestCredentials | null; // null: missing or not a docker config
type AccountResult = readonly string[];

export class KubernetesPullSecretResolver implements PullSecretResolver {
  readonly #api: PullSecretApi;
  readonly #default: { namespace: string; name: string } | undefined;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxNames: number;
  readonly #now: () => number;
  readonly #secrets: LRUCache<string, Entry<SecretResult>>;
  readonly #accounts: LRUCache<string, Entry<AccountResult>>;
  readonly #flights = new SingleFlight();
  /** Service accounts and the cluster default apply to pods that list no pull secrets. */
  readonly resolvesWithoutNames = true;

  constructor(options: KubernetesPullSecretResolverOptions) {
    if (options.api === undefined && options.kubeConfig === undefined) {
      throw new PortcullisError('ERR_INTERNAL', 'KubernetesPullSecretResolver needs api or kubeConfig');
    }
    this.#api = options.api ?? kubePullSecretApi(options.kubeConfig as KubeConfig);
    this.#default =
      options.defaultSecret === undefined || options.defaultSecret === ''
        ? undefined
        : parseSecretRef(options.defaultSecret);
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#negativeTtlMs = options.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS;
    this.#maxNames = options.maxNames ?? DEFAULT_MAX_NAMES;
    this.#now = options.now ?? Date.now;
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#secrets = new LRUCache({ max });
    this.#accounts = new LRUCache({ max });
  }

  /**
   * The credentials for a pod of `namespace`: its pull secrets `names` (or, when it names none,
   * its service account's), then the cluster-wide default. Missing and non-docker Secrets are
   * skipped; duplicates are read once.
   */
  async resolve(
    namespace: string,
    names: readonly string[],
    options: ResolveOptions = {},
  ): Promise<readonly RequestCredentials[]> {
    let wanted = names.filter((n) => n !== '');
    if (wanted.length === 0) {
      const account =
        options.serviceAccountName === undefined || options.serviceAccountName === ''
          ? 'default'
          : options.serviceAccountName;
      wanted = [...(await this.#serviceAccountSecrets(namespace, account))];
    }
    const refs: { namespace: string; name: string }[] = [...new Set(wanted)]
      .slice(0, this.#maxNames)
      .map((name) => ({ namespace, name }));
    if (
      this.#default !== undefined &&
      !refs.some((r) => r.namespace === this.#default?.namespace && r.name === this.#default.name)
    )
      refs.push(this.#default);
    const results = await Promise.all(refs.map((r) => this.#secret(r.namespace, r.name)));
    return results.filter((r): r is RequestCredentials => r !== null);
  }

  async #secret(namespace: string, name: string): Promise<SecretResult> {
    return this.#cached(
      this.#secrets,
      `${namespace}/${name}`,
      async () => {
        const object = await this.#api.readSecret(namespace, name);
        return object === undefined ? null : (credentialsFromDockerSecret(object, namespace, name) ?? null);
      },
      (v) => v === null,
    );
  }

  async #serviceAccountSecrets(namespace: string, name: string): Promise<AccountResult> {
    return this.#cached(
      this.#accounts,
      `${namespace}/${name}`,
      async () => {
        const object = await this.#api.readServiceAccount(namespace, name);
        if (!isObject(object) || !Array.isArray(object['imagePullSecrets'])) return Object.freeze([]);
        const names = object['imagePullSecrets'].flatMap((ref: unknown) =>
          isObject(ref) && typeof ref['name'] === 'string' && ref['name'] !== '' ? [ref['name']] : [],
        );
        return Object.freeze(names);
      },
      (v) => v.length === 0,
    );
  }

  async #cached<T>(
    cache: LRUCache<string, Entry<T>>,
    key: string,
    load: () => Promise<T>,
    negative: (value: T) => boolean,
  ): Promise<T> {
    const entry = cache.get(key);
    const now = this.#now();
    if (entry !== undefined && entry.expires > now) return entry.value;
    const flightKey = `${cache === (this.#secrets as unknown) ? 's' : 'a'}\u0000${key}`;
    return this.#flights.run(flightKey, async () => {
      try {
        const value = await load();
        cache.set(key, { value, expires: this.#now() + (negative(value) ? this.#negativeTtlMs : this.#ttlMs) });
        return value;
      } catch (error) {
        if (entry !== undefined) return entry.value; // the API is failing: the last value read, however old
        throw error instanceof PortcullisError
          ? error
          : new PortcullisError(
              'ERR_INTERNAL',
              `cannot read ${key} from the Kubernetes API: ${describeApiError(error)}`,
              { cause: error },
            );
      }
    });
  }
}

/** Reads through CoreV1Api; 404 → undefined. */
export function kubePullSecretApi(kubeConfig: KubeConfig): PullSecretApi {
  const { core } = makeClients(kubeConfig);
  const orMissing = async (read: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await read();
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  };
  return {
    readSecret: (namespace, name) => orMissing(() => core.readNamespacedSecret({ namespace, name })),
    readServiceAccount: (namespace, name) => orMissing(() => core.readNamespacedServiceAccount({ namespace, name })),
  };
}
