import { parseStrictJson } from '../util/index.js';
import { repositoryScope } from './auth/authenticator.js';
import { readCapped, statusError } from './body.js';
import type { RegistryConnection } from './connection.js';
import { operationError, printable } from './operation.js';
import { nextLink } from './referrers.js';
import { DEFAULT_MAX_TAG_PAGES, type CallOptions, type RepositoryRef } from './types.js';

/** Every tag of the repository (paginated with Link, capped pages). */
export async function listTags(c: RegistryConnection, repo: RepositoryRef, call?: CallOptions): Promise<string[]> {
  using op = c.op(repo, 'list tags', call);
  let url = c.url(repo, 'tags/list');
  const out: string[] = [];
  const maxPages = c.options.maxTagPages ?? DEFAULT_MAX_TAG_PAGES;
  for (let page = 1; ; page++) {
    const response = await c.send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
    });
    if (response.status !== 200) throw await statusError(op, response, `repository ${repo.repository} not found`);
    const bytes = await readCapped(op, response, c.maxManifestBytes, 'tag list', c.bodies);
    let doc: unknown;
    try {
      doc = parseStrictJson(bytes, { maxBytes: c.maxManifestBytes, what: 'tag list' });
    } catch (cause) {
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `tag list is not JSON: ${(cause as Error).message}`, cause);
    }
    const tags = (doc as { tags?: unknown } | null)?.tags;
    if (tags !== null && tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))) {
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', 'tag list "tags" is not an array of strings');
    }
    out.push(...((tags ?? []) as string[]));
    const next = nextLink(response.headers.link);
    if (next === undefined) return out;
    if (page >= maxPages)
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `the tag list has more than ${maxPages} pages`);
    const nextUrl = new URL(next, url);
    if (nextUrl.origin !== url.origin)
      throw operationError(
        op,
        'ERR_REGISTRY_RESPONSE',
        `tag list Link points to another origin (${printable(nextUrl.origin)})`,
      );
    url = nextUrl;
  }
}
