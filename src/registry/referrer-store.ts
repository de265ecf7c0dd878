import { LRUCache } from 'lru-cache';
import { type Descriptor, parseManifest, MEDIA_TYPE } from '../oci/index.js';
import { digestOf, parseDigest } from '../util/index.js';
import { repositoryScope } from './auth/authenticator.js';
import { readCapped, readErrorBody, statusError } from './body.js';
import type { RegistryConnection } from './connection.js';
import { abortError, operationError, printable, type Operation } from './operation.js';
import { ProbeGate } from './probe-gate.js';
import { filterReferrers, nextLink, referrersIndex, referrersTag } from './referrers.js';
import { discard } from './transport.js';
import { DEFAULT_MAX_POOLS } from './transport-support.js';
import {
  DEFAULT_MAX_REFERRER_PAGES,
  type CallOptions,
  type ReferrersCursor,
  type ReferrersPage,
  type RepositoryRef,
} from './types.js';

/** A page's descriptors of the type (each digest once within the page), with its cursor. */
function filtered(
  page: { descriptors: Descriptor[]; next?: ReferrersCursor },
  artifactType: string | undefined,
): ReferrersPage {
  const descriptors = filterReferrers(page.descriptors, artifactType);
  return page.next === undefined ? { descriptors } : { descriptors, next: page.next };
}

/** Referrers: the Referrers API, the referrers tag schema where a registry has none, and adding to it. */
export class ReferrerStore {
  readonly #c: RegistryConnection;
  /** Per registry host, least recently used out: pod specs name the hosts (bounded like the pools). */
  readonly #referrersSupport: LRUCache<string, 'api' | 'tag-schema'>;
  readonly #referrersProbe = new ProbeGate();

  constructor(connection: RegistryConnection) {
    this.#c = connection;
    this.#referrersSupport = new LRUCache({ max: connection.options.maxPools ?? DEFAULT_MAX_POOLS });
  }

  /**
   * The referrers of `subject`, filtered on `artifactType` (client-side too: a registry may
   * ignore the filter), every page. Uses the Referrers API, or the referrers tag schema when the
   * registry answers 404 there; which one works is remembered per registry, so later calls cost
   * one request (plus pages).
   */
  async listReferrers(
    repo: RepositoryRef,
    subject: { readonly digest: string },
    filter: { artifactType?: string } = {},
    call?: CallOptions,
  ): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    let cursor: ReferrersCursor | undefined;
    do {
      const page = await this.listReferrersPage(repo, subject, filter, cursor, call);
      out.push(...page.descriptors);
      cursor = page.next;
    } while (cursor !== undefined);
    return filterReferrers(out, filter.artifactType);
  }

  /**
   * One page of `listReferrers`: the first when `cursor` is undefined (the Referrers API's first
   * page, or the whole tag-schema index), else the page `cursor` (from the previous page's
   * `next`) leads to. Each page is its own operation: its own deadline and byte cap; past
   * `maxReferrerPages` a page that links on fails, as a listing of them all would.
   */
  async listReferrersPage(
    repo: RepositoryRef,
    subject: { readonly digest: string },
    filter: { artifactType?: string },
    cursor: ReferrersCursor | undefined,
    call?: CallOptions,
  ): Promise<ReferrersPage> {
    const what =
      cursor === undefined ? `referrers of ${subject.digest}` : `referrers of ${subject.digest} (page ${cursor.page})`;
    using op = this.#c.op(repo, what, call, subject.digest);
    if (parseDigest(subject.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(subject.digest)}" is not a supported digest`);
    if (cursor !== undefined) {
      const url = this.#nextUrl(op, repo, cursor);
      const page = await this.#referrersApiPage(op, repo, subject, url, cursor.page, true);
      return page === undefined ? { descriptors: [] } : filtered(page, filter.artifactType);
    }
    const mode = this.#c.options.referrers ?? 'auto';
    // Until the registry's answer is known, one listing asks the Referrers API and the others
    // wait for it: a registry without the API would otherwise answer a burst with 404s first.
    let probed = (): void => undefined;
    if (mode === 'auto') {
      try {
        probed = await this.#referrersProbe.enter(
          repo.registry,
          () => this.#referrersSupport.has(repo.registry),
          op.signal,
        );
      } catch (cause) {
        throw abortError(op, cause);
      }
    }
    try {
      const known = mode === 'auto' ? this.#referrersSupport.get(repo.registry) : mode;
      if (known !== 'tag-schema') {
        const query =
          filter.artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(filter.artifactType)}`;
        const url = this.#c.url(repo, `referrers/${subject.digest}${query}`);
        const viaApi = await this.#referrersApiPage(op, repo, subject, url, 1, mode === 'api');
        probed();
        if (viaApi !== undefined) return filtered(viaApi, filter.artifactType);
      }
      probed();
      return { descriptors: filterReferrers(await this.#referrersFromTag(op, repo, subject), filter.artifactType) };
    } finally {
      probed();
    }
  }

  /** The URL a cursor names, if it is this registry's (a cursor is only ever made from a checked Link). */
  #nextUrl(op: Operation, repo: RepositoryRef, cursor: ReferrersCursor): URL {
    const base = this.#c.url(repo, 'referrers/');
    let url: URL;
    try {
      url = new URL(cursor.url);
    } catch (cause) {
      throw operationError(op, 'ERR_INPUT_INVALID', 'a referrers cursor is not a URL', cause);
    }
    if (url.origin !== base.origin || !Number.isSafeInteger(cursor.page) || cursor.page < 2)
      throw operationError(op, 'ERR_INPUT_INVALID', 'a referrers cursor of another registry or listing');
    return url;
  }

  /** One Referrers API page; undefined when the registry has no Referrers API (first page, not `required`). */
  async #referrersApiPage(
    op: Operation,
    repo: RepositoryRef,
    subject: { readonly digest: string },
    url: URL,
    page: number,
    required: boolean,
  ): Promise<{ descriptors: Descriptor[]; next?: ReferrersCursor } | undefined> {
    const maxPages = this.#c.options.maxReferrerPages ?? DEFAULT_MAX_REFERRER_PAGES;
    const response = await this.#c.send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url,
      headers: { accept: MEDIA_TYPE.ociIndex },
    });
    if (response.status === 404 && page === 1 && !required) {
      const errors = await readErrorBody(response);
      // NAME_UNKNOWN: the repository is missing, which says nothing about API support.
      if (!errors.some((e) => e.code === 'NAME_UNKNOWN')) this.#referrersSupport.set(repo.registry, 'tag-schema');
      return undefined;
    }
    if (response.status !== 200) throw await statusError(op, response, `referrers of ${subject.digest} not found`);
    this.#referrersSupport.set(repo.registry, 'api');
    const bytes = await readCapped(op, response, this.#c.maxManifestBytes, 'referrers list', this.#c.bodies);
    const descriptors = this.#indexManifests(op, bytes, 'referrers list');
    const next = nextLink(response.headers.link);
    if (next === undefined) return { descriptors };
    if (page >= maxPages)
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `the referrers list has more than ${maxPages} pages`);
    let nextUrl: URL;
    try {
      nextUrl = new URL(next, url);
    } catch (cause) {
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `referrers Link "${printable(next)}" is not a URL`, cause);
    }
    if (nextUrl.origin !== url.origin)
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `referrers Link points to another origin (${printable(nextUrl.origin)})`,
      );
    return { descriptors, next: { url: nextUrl.href, page: page + 1 } };
  }

  async #referrersFromTag(
    op: Operation,
    repo: RepositoryRef,
    subject: { readonly digest: string },
  ): Promise<Descriptor[]> {
    const tag = referrersTag(subject.digest) as string;
    const response = await this.#c.send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url: this.#c.url(repo, `manifests/${tag}`),
      headers: { accept: MEDIA_TYPE.ociIndex },
    });
    if (response.status === 404) {
      await discard(response);
      return [];
    }
    if (response.status !== 200) throw await statusError(op, response);
    const bytes = await readCapped(op, response, this.#c.maxManifestBytes, 'referrers tag index', this.#c.bodies);
    return this.#indexManifests(op, bytes, `referrers tag ${tag}`);
  }

  #indexManifests(op: Operation, bytes: Uint8Array, what: string): Descriptor[] {
    try {
      return [...parseManifest(bytes).manifests];
    } catch (cause) {
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `${what} is not a valid image index: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      );
    }
  }

  /**
   * Adds `descriptor` (with its artifactType and annotations) to the referrers tag-schema
   * index of `subject`, creating the index if needed. For registries that did not process a
   * pushed manifest's subject, as notation and oras do. Not atomic: concurrent writers of
   * the same subject can lose an entry (the tag schema has no compare-and-swap).
   */
  async addReferrer(
    repo: RepositoryRef,
    subject: Descriptor,
    descriptor: Descriptor,
    call?: CallOptions,
  ): Promise<{ updated: boolean; index?: Descriptor }> {
    using op = this.#c.op(repo, `add referrer ${descriptor.digest} of ${subject.digest}`, call, subject.digest);
    const tag = referrersTag(subject.digest);
    if (tag === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(subject.digest)}" is not a supported digest`);
    const scopes = [repositoryScope(repo.repository, true)];
    const response = await this.#c.send(op, scopes, {
      method: 'GET',
      url: this.#c.url(repo, `manifests/${tag}`),
      headers: { accept: MEDIA_TYPE.ociIndex },
    });
    let current: Descriptor[] = [];
    if (response.status === 200) {
      current = this.#indexManifests(
        op,
        await readCapped(op, response, this.#c.maxManifestBytes, 'referrers tag index', this.#c.bodies),
        `referrers tag ${tag}`,
      );
    } else if (response.status === 404) {
      await discard(response);
    } else {
      throw await statusError(op, response);
    }
    if (current.some((d) => d.digest === descriptor.digest)) return { updated: false };
    const bytes = referrersIndex([...current, descriptor]);
    const put = await this.#c.send(op, scopes, {
      method: 'PUT',
      url: this.#c.url(repo, `manifests/${tag}`),
      headers: { 'content-type': MEDIA_TYPE.ociIndex },
      body: bytes,
    });
    if (put.status !== 201 && put.status !== 200) throw await statusError(op, put);
    await discard(put);
    return { updated: true, index: { mediaType: MEDIA_TYPE.ociIndex, digest: digestOf(bytes), size: bytes.length } };
  }
}
