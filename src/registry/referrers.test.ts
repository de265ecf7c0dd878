import { describe, expect, it } from 'vitest';
import { filterReferrers, nextLink, referrersIndex, referrersTag } from './referrers.js';

describe('referrers helpers', () => {
  it('names the tag-schema tag', () => {
    expect(referrersTag(`sha256:${'a'.repeat(64)}`)).toBe(`sha256-${'a'.repeat(64)}`);
    expect(referrersTag(`sha512:${'b'.repeat(128)}`)).toBe(`sha512-${'b'.repeat(128)}`);
    expect(referrersTag('sha256:zz')).toBeUndefined();
  });

  it('finds rel="next" in Link headers', () => {
    expect(nextLink('</v2/a/referrers/sha256:x?n=2&last=y>; rel="next"')).toBe('/v2/a/referrers/sha256:x?n=2&last=y');
    expect(nextLink('</v2/a/tags/list?n=1&last=b>; rel=next')).toBe('/v2/a/tags/list?n=1&last=b');
    expect(nextLink('<https://x/prev>; rel="prev", <https://x/next>; rel="next"')).toBe('https://x/next');
    expect(nextLink(['<https://x/p>; rel="prev"', '<https://x/n>; title="t"; rel="next"'])).toBe('https://x/n');
    expect(nextLink('<https://x/p>; rel="prev"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });

  it('filters on artifact type and drops duplicates', () => {
    const a = { mediaType: 'm', digest: 'sha256:a', size: 1, artifactType: 'sig' };
    const b = { mediaType: 'm', digest: 'sha256:b', size: 1, artifactType: 'sbom' };
    const c = { mediaType: 'm', digest: 'sha256:c', size: 1 };
    expect(filterReferrers([a, b, a, c], 'sig')).toEqual([a]);
    expect(filterReferrers([a, b, a, c], undefined)).toEqual([a, b, c]);
  });

  it('writes an OCI image index', () => {
    const doc = JSON.parse(Buffer.from(referrersIndex([])).toString()) as Record<string, unknown>;
    expect(doc).toEqual({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
  });
});
