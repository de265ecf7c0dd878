import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../oci/index.js';
import { ReferrerListing } from './referrer-listing.js';

const d = (n: number): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${n.toString(16).padStart(64, '0')}`,
  size: n,
});
const cursor = (page: number): { url: string; page: number } => ({
  url: `https://r.test/v2/a/referrers/x?p=${page}`,
  page,
});

describe('a referrer listing as far as read', () => {
  it('is not complete while a next page is known, and is once the last page is in', () => {
    const listing = new ReferrerListing();
    expect(listing.complete).toBe(false);
    listing.append(1, { descriptors: [d(1), d(2)], next: cursor(2) });
    expect([listing.complete, listing.pages, listing.next?.page]).toEqual([false, 1, 2]);
    listing.append(2, { descriptors: [d(3)] });
    expect([listing.complete, listing.pages, listing.next]).toEqual([true, 2, undefined]);
    expect(listing.descriptors).toEqual([d(1), d(2), d(3)]);
  });

  it('adds a page once, and only in turn (two readers that fetched it together)', () => {
    const listing = new ReferrerListing();
    listing.append(2, { descriptors: [d(9)] });
    expect(listing.pages).toBe(0);
    listing.append(1, { descriptors: [d(1)], next: cursor(2) });
    listing.append(1, { descriptors: [d(1)], next: cursor(2) });
    listing.append(2, { descriptors: [d(2)], next: cursor(3) });
    listing.append(2, { descriptors: [d(2)], next: cursor(3) });
    expect(listing.descriptors).toEqual([d(1), d(2)]);
    expect(listing.pages).toBe(2);
  });

  it('keeps each digest once across pages, in the order first listed', () => {
    const listing = new ReferrerListing();
    listing.append(1, { descriptors: [d(1), d(2)], next: cursor(2) });
    listing.append(2, { descriptors: [d(2), d(3), d(1)] });
    expect(listing.descriptors).toEqual([d(1), d(2), d(3)]);
  });

  it('holds a whole list read at once as complete', () => {
    const listing = ReferrerListing.whole([d(1)]);
    expect([listing.complete, listing.descriptors]).toEqual([true, [d(1)]]);
    expect(ReferrerListing.whole([]).complete).toBe(true);
  });
});
