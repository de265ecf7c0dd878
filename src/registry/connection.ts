import { createHash } from 'node:crypto';
import { PortcullisError } from '../errors/index.js';
import { MAX_MANIFEST_BYTES } from '../oci/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import { Authenticator } from './auth/authenticator.js';
import { ANONYMOUS } from './auth/credentials.js';
import { describeErrors, readErrorBody, statusError } from './body.js';
import { BodyBudget } from './body-budget.js';
import { operationError, printable, startOperation, type Operation } from './operation.js';
import { discard, header, Transport, type HttpRequest, type HttpResponse, type RequestBody } from './transport.js';
import { DEFAULT_TIMEOUT_MS, type CallOptions, type RegistryClientOptions, type RepositoryRef } from './types.js';

/**
 * What every store of the client shares (as oras-go's repository shares its client): the
 * transport (pools, TLS, deadline, retries, redirects), the auth layer (challenges, tokens), and
 * the making of operations, URLs and authenticated requests.
 */
export class RegistryConnection {
  readonly options: RegistryClientOptions;
  readonly transport: Transport;
  readonly #auth: Authenticator;
  /** The bytes buffered from bodies at once, across every store of the client (body-budget.ts). */
  readonly bodies: BodyBudget;

  constructor(options: RegistryClientOptions) {
    this.options = options;
    this.bodies = options.bodyBudget instanceof BodyBudget ? options.bodyBudget : new BodyBudget(options.bodyBudget);
    this.transport = new Transport(options);
    this.#auth = new Authenticator({
      transport: this.transport,
      credentials: options.credentials ?? ANONYMOUS,
      ...(options.now === undefined ? {} : { now: options.now }),
      // Per-host facts are kept for as many hosts as connection pools.
      ...(options.maxPools === undefined ? {} : { maxHosts: options.maxPools }),
    });
  }

  get maxManifestBytes(): number {
    return this.options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  }

  op(repo: RepositoryRef, what: string, call: CallOptions | undefined, digest?: string): Operation {
    checkRepository(repo);
    return startOperation({
      registry: repo.registry,
      repository: repo.repository,
      what,
      timeoutMs: call?.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: call?.signal,
      digest,
      credentials: call?.credentials,
    });
  }

  url(repo: RepositoryRef, path: string): URL {
    return new URL(`/v2/${repo.repository}/${path}`, this.transport.baseUrl(repo.registry));
  }

  /**
   * One request through the auth layer: credentials pre-emptively once the registry's scheme
   * is known; otherwise anonymously, then once more answering the 401 challenge.
   */
  async send(op: Operation, scopes: readonly string[], request: HttpRequest): Promise<HttpResponse> {
    const registryOrigin = this.transport.baseUrl(op.registry).origin;
    const withAuth = (authorization: string | undefined): HttpRequest =>
      authorization === undefined || request.url.origin !== registryOrigin
        ? request
        : { ...request, headers: { ...request.headers, authorization } };
    const contacted = await this.#auth.firstContact(op);
    let response: HttpResponse;
    let learned: { scopes: string[] } | undefined;
    try {
      response = await this.transport.send(op, withAuth(await this.#auth.authorization(op, scopes)));
      if (response.status === 401) learned = this.#auth.learn(op, response.headers['www-authenticate']);
      else this.#auth.answered(op);
    } finally {
      contacted(); // what the answer taught is remembered: requests waiting for it go
    }
    if (response.status !== 401) return response;
    if (learned === undefined) throw await statusError(op, response);
    await discard(response);
    if (!replayable(request.body)) {
      throw operationError(
        op,
        'ERR_REGISTRY_UNAUTHORIZED',
        'the registry asked for authentication in the middle of a streamed upload',
      );
    }
    const authorization = await this.#auth.authorization(op, scopes, true, learned.scopes);
    if (authorization === undefined) {
      throw operationError(
        op,
        'ERR_REGISTRY_UNAUTHORIZED',
        `authentication required and no credentials are configured for ${op.registry}`,
      );
    }
    response = await this.transport.send(op, withAuth(authorization));
    if (response.status === 401) {
      const detail = describeErrors(await readErrorBody(response));
      const who = (await this.#auth.hasCredentials(op))
        ? `the credentials configured for ${op.registry} were rejected`
        : `anonymous access was refused; configure credentials for ${op.registry}`;
      throw operationError(op, 'ERR_REGISTRY_UNAUTHORIZED', `${who} (401)${detail}`);
    }
    return response;
  }
}

export function contentType(response: HttpResponse): string | undefined {
  const value = header(response.headers, 'content-type')?.split(';')[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function contentLength(response: HttpResponse): number | undefined {
  const value = header(response.headers, 'content-length');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

export function isDigest(reference: string): boolean {
  return reference.includes(':');
}

export function hashWith(bytes: Uint8Array, algorithm: DigestAlgorithm): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function replayable(body: RequestBody | undefined): boolean {
  return body === undefined || body instanceof Uint8Array;
}

/** Repository names come from parsed references, but the client is also an API: check them. */
export function checkRepository(repo: RepositoryRef): void {
  const ok = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/.test(
    repo.repository,
  );
  if (!ok || repo.registry === '' || /[/\s@]/.test(repo.registry)) {
    throw new PortcullisError(
      'ERR_REF_INVALID',
      `invalid repository "${printable(repo.registry, 100)}/${printable(repo.repository, 200)}"`,
    );
  }
}
