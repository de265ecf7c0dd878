import { LRUCache } from 'lru-cache';
import { describeErrors, readCapped, readErrorBody, statusError } from '../body.js';
import { abortError, operationError, printable, type Operation } from '../operation.js';
import { ProbeGate } from '../probe-gate.js';
import type { Transport } from '../transport.js';
import { DEFAULT_MAX_POOLS } from '../transport-support.js';
import { parseChallengeHeader, pickChallenge } from './challenge.js';
import { credentialIdentity, type Credential, type CredentialProvider } from './credentials.js';
import { TokenCache } from './token-cache.js';
import { parseStrictJson } from '../../util/index.js';

/**
 * The auth layer (distribution token auth spec, RFC 7617 Basic): answers a registry's 401
 * challenge, then remembers per registry which scheme and realm it wants, so later requests
 * send credentials pre-emptively and cost no extra 401 round trip. Bearer tokens are cached by
 * (registry, scopes, credential identity) until they expire; repositories asked for together
 * share one token request, whose token serves each of them.
 */

/**
 * Token responses are small: a token must fit in a request header (registries accept about
 * 16 KiB), and the response carries it at most twice (token and access_token) plus metadata.
 */
const TOKEN_RESPONSE_MAX_BYTES = 128 * 1024;

type HostAuth =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'basic' }
  | { readonly scheme: 'bearer'; readonly realm: string; readonly service?: string };

/** Scopes one token request asks for at most (each is a query parameter). */
const MAX_BATCH_SCOPES = 20;

/** Token scopes collected in one turn of the event loop, fetched together. */
interface Batch {
  readonly scopes: string[];
  /** The waiting operation with the latest deadline: the request runs under it. */
  op: Operation;
  readonly done: Promise<{ token: string; expiresIn: number | undefined }>;
}

/** Registries whose scheme is remembered (pods name the hosts): the oldest is forgotten past it. */
const MAX_HOSTS = 1024;

export interface AuthenticatorOptions {
  readonly transport: Transport;
  readonly credentials: CredentialProvider;
  /** Clock for the token cache. */
  readonly now?: () => number;
  /** client_id sent with identity-token (refresh token) grants. */
  readonly clientId?: string;
  /** Registries whose challenge is remembered, least recently used out (pod specs name the hosts). Default 256. */
  readonly maxHosts?: number;
}

/** `repository:<name>:pull` or `repository:<name>:pull,push`. */
export function repositoryScope(repository: string, push = false): string {
  return `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
}

export class Authenticator {
  readonly #transport: Transport;
  readonly #credentials: CredentialProvider;
  readonly #clientId: string;
  readonly #hosts: LRUCache<string, HostAuth>;
  readonly #tokens: TokenCache;
  readonly #inflight = new Map<string, Promise<string>>();
  readonly #firstContact = new ProbeGate();
  readonly #batches = new Map<string, Batch>();

  constructor(options: AuthenticatorOptions) {
    this.#transport = options.transport;
    this.#credentials = options.credentials;
    this.#clientId = options.clientId ?? 'portcullis';
    this.#hosts = new LRUCache({ max: options.maxHosts ?? DEFAULT_MAX_POOLS });
    this.#tokens = new TokenCache(options.now ?? Date.now);
  }

  /** Whether the registry's auth scheme is known (a challenge was seen, or an answer came without one). */
  knows(registry: string): boolean {
    return this.#hosts.has(registry);
  }

  /**
   * Before a request: until the registry's scheme is known, one request finds it out (its
   * answer: a 401 challenge, or none) and the others wait for it, so that a burst of cold
   * requests does not collect a 401 each. The caller calls the returned function once its
   * answer has been seen (`learn` or `answered`); a waiter whose deadline passes gets the
   * operation's timeout error.
   */
  async firstContact(op: Operation): Promise<() => void> {
    try {
      return await this.#firstContact.enter(op.registry, () => this.#hosts.has(op.registry), op.signal);
    } catch (cause) {
      throw abortError(op, cause);
    }
  }

  /** A request was answered without a challenge: nothing to send up front until a 401 says otherwise. */
  answered(op: Operation): void {
    if (!this.#hosts.has(op.registry)) this.#remember(op.registry, { scheme: 'none' });
  }

  #remember(registry: string, state: HostAuth): void {
    this.#hosts.delete(registry);
    this.#hosts.set(registry, state);
    if (this.#hosts.size > MAX_HOSTS) this.#hosts.delete(this.#hosts.keys().next().value as string);
  }

  /**
   * The Authorization header for a request, or undefined (no challenge seen yet: try
   * anonymously first; or a Basic registry and no credentials). `fresh` skips the token cache.
   */
  async authorization(
    op: Operation,
    scopes: readonly string[],
    fresh = false,
    extraScopes: readonly string[] = [],
  ): Promise<string | undefined> {
    const state = this.#hosts.get(op.registry);
    if (state === undefined || state.scheme === 'none') return undefined;
    const credential = await (op.credentials ?? this.#credentials).get(op.registry);
    if (state.scheme === 'basic') {
      if (credential === undefined || !('username' in credential)) return undefined;
      return `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}`;
    }
    const key = `${op.registry}\n${[...scopes].sort().join(' ')}\n${credentialIdentity(credential)}`;
    if (!fresh) {
      const cached = this.#tokens.get(key);
      if (cached !== undefined) return `Bearer ${cached}`;
    }
    // Single flight: a burst of requests for one repository costs one token request; and the
    // repositories asked for in the same turn share one (a token for all of their scopes).
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      const all = [...new Set([...scopes, ...extraScopes])];
      const fetching =
        fresh || all.length !== 1
          ? this.#fetchToken(op, state, all, credential)
          : this.#batched(op, state, all[0] as string, credential);
      pending = fetching.then(({ token, expiresIn }) => {
        this.#tokens.set(key, token, expiresIn);
        return token;
      });
      this.#inflight.set(key, pending);
      pending.then(
        () => this.#inflight.delete(key),
        () => this.#inflight.delete(key),
      );
    }
    return `Bearer ${await pending}`;
  }

  /**
   * A token request for `scope` together with the other scopes asked of the same registry, with
   * the same credential, in this turn of the event loop (at most MAX_BATCH_SCOPES each): a pod
   * of many new images costs one token request, not one per repository. The request carries the
   * latest deadline of those waiting. A token server that grants less than asked leaves the
   * requests it does not cover to a 401 and a token of their own.
   */
  #batched(
    op: Operation,
    state: Extract<HostAuth, { scheme: 'bearer' }>,
    scope: string,
    credential: Credential | undefined,
  ): Promise<{ token: string; expiresIn: number | undefined }> {
    const key = `${op.registry}\n${state.realm}\n${credentialIdentity(credential)}`;
    let batch = this.#batches.get(key);
    if (batch === undefined || batch.scopes.length >= MAX_BATCH_SCOPES) {
      const scopes: string[] = [];
      const created: Batch = {
        scopes,
        op,
        done: new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          if (this.#batches.get(key) === created) this.#batches.delete(key);
          return this.#fetchToken(created.op, state, scopes, credential);
        }),
      };
      this.#batches.set(key, created);
      batch = created;
    }
    if (!batch.scopes.includes(scope)) batch.scopes.push(scope);
    if (op.deadline > batch.op.deadline) batch.op = op;
    return batch.done;
  }

  /**
   * Learns the registry's scheme from a 401's WWW-Authenticate. Returns the scopes the
   * challenge asks for (Bearer), or undefined when there is no usable challenge.
   */
  learn(op: Operation, challengeHeader: string | readonly string[] | undefined): { scopes: string[] } | undefined {
    const challenge = pickChallenge(parseChallengeHeader(challengeHeader));
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      this.#remember(op.registry, { scheme: 'basic' });
      return { scopes: [] };
    }
    const realm = challenge.params.realm as string;
    const service = challenge.params.service;
    this.#remember(op.registry, { scheme: 'bearer', realm, ...(service === undefined ? {} : { service }) });
    const scope = challenge.params.scope;
    return { scopes: scope === undefined || scope === '' ? [] : scope.split(' ') };
  }

  /** Whether credentials exist for the registry (for messages). */
  async hasCredentials(op: Operation): Promise<boolean> {
    return (await (op.credentials ?? this.#credentials).get(op.registry)) !== undefined;
  }

  async #fetchToken(
    op: Operation,
    state: Extract<HostAuth, { scheme: 'bearer' }>,
    scopes: readonly string[],
    credential: Credential | undefined,
  ): Promise<{ token: string; expiresIn: number | undefined }> {
    let url: URL;
    try {
      url = new URL(state.realm);
    } catch (cause) {
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `token realm "${printable(state.realm)}" is not a URL`, cause);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.#transport.allowsPlainHttp(url.host))) {
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `token realm ${printable(url.origin)} is not HTTPS (plain HTTP is not allowed for ${url.host})`,
      );
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    let response;
    if (credential !== undefined && 'identityToken' in credential) {
      // OAuth2 refresh-token grant (distribution's oauth.md), as docker/oras do for identity tokens.
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.identityToken,
        client_id: this.#clientId,
      });
      if (state.service !== undefined) form.set('service', state.service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      response = await this.#transport.send(op, {
        method: 'POST',
        url,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString(), 'utf8'),
      });
    } else {
      if (state.service !== undefined) url.searchParams.set('service', state.service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (credential !== undefined)
        headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}`;
      response = await this.#transport.send(op, { method: 'GET', url, headers });
    }
    if (response.status === 401 || response.status === 403) {
      const detail = describeErrors(await readErrorBody(response));
      const who =
        credential === undefined
          ? 'anonymous access'
          : 'identityToken' in credential
            ? 'the identity token'
            : `the credentials of user "${printable(credential.username, 80)}"`;
      throw operationError(
        op,
        'ERR_REGISTRY_UNAUTHORIZED',
        `token server ${url.host} refused ${who} (${response.status})${detail}`,
      );
    }
    if (response.status !== 200) throw await statusError(op, response, `token endpoint ${url.host}${url.pathname}`);
    const bytes = await readCapped(op, response, TOKEN_RESPONSE_MAX_BYTES, 'token response');
    let doc: unknown;
    try {
      doc = parseStrictJson(bytes, { maxBytes: TOKEN_RESPONSE_MAX_BYTES, what: 'token response' });
    } catch (cause) {
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `token response from ${url.host} is not JSON: ${(cause as Error).message}`,
        cause,
      );
    }
    const record = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    const token = typeof record.token === 'string' && record.token !== '' ? record.token : record.access_token;
    if (typeof token !== 'string' || token === '')
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `token response from ${url.host} has no "token" or "access_token"`,
      );
    const expiresIn = typeof record.expires_in === 'number' ? record.expires_in : undefined;
    return { token, expiresIn };
  }
}
