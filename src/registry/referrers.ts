import { type Descriptor, MEDIA_TYPE } from '../oci/index.js';
import { parseDigest } from '../util/index.js';
import type { ReferrersCursor, ReferrersPage } from './types.js';

/**
 * Referrers helpers (distribution-spec v1.1 "Listing Referrers" and the referrers tag schema;
 * image-spec v1.1 image index). No I/O here.
 */

/** The referrers tag schema tag of a subject: `sha256:abc…` → `sha256-abc…`. */
export function referrersTag(subjectDigest: string): string | undefined {
  const parsed = parseDigest(subjectDigest);
  return parsed === undefined ? undefined : `${parsed.algorithm}-${parsed.hex}`;
}

/** The `rel="next"` target of an RFC 8288 Link header, if any. */
export function nextLink(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  for (const line of typeof value === 'string' ? [value] : value) {
    for (const match of line.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
      const params = match[2] ?? '';
      if (/;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?/i.test(params)) return match[1];
    }
  }
  return undefined;
}

/** Descriptors of `artifactType` (all when undefined), first occurrence of each digest. */
export function filterReferrers(descriptors: readonly Descriptor[], artifactType: string | undefined): Descriptor[] {
  const seen = new Set<string>();
  const out: Descriptor[] = [];
  for (const d of descriptors) {
    if (artifactType !== undefined && d.artifactType !== artifactType) continue;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    out.push(d);
  }
  return out;
}

/** The image index a referrers tag holds. */
export function referrersIndex(manifests: readonly Descriptor[]): Uint8Array {
  const doc = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests };
  return new Uint8Array(Buffer.from(JSON.stringify(doc), 'utf8'));
}

/**
 * The pages of a listing, each asked for only when the previous one has been consumed; each
 * digest once across pages (as `listReferrers` gives them). The requests are `fetchPage`'s.
 */
export async function* referrerPages(
  fetchPage: (cursor: ReferrersCursor | undefined) => Promise<ReferrersPage>,
): AsyncGenerator<readonly Descriptor[]> {
  const seen = new Set<string>();
  let cursor: ReferrersCursor | undefined;
  do {
    const page = await fetchPage(cursor);
    yield page.descriptors.filter((d) => !seen.has(d.digest) && seen.add(d.digest) !== undefined);
    cursor = page.next;
  } while (cursor !== undefined);
}
