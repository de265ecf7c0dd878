import type { Descriptor } from '../oci/index.js';
import type { ReferrersCursor, ReferrersPage } from '../registry/index.js';

/**
 * A subject's referrers of one artifact type as far as they have been read: the pages fetched so
 * far (each digest once), and where the next page is. The referrers cache holds these, so a
 * listing the first verification stopped reading after its first page (a signature there passed)
 * is continued, not taken for the whole, by a later one that needs more (another policy's
 * verification, required artifacts). `complete` is true once the last page is in.
 */
export class ReferrerListing {
  readonly #descriptors: Descriptor[] = [];
  /** Built when a second page arrives (most listings have one page: no set kept for them). */
  #seen: Set<string> | undefined;
  #pages = 0;
  #next: ReferrersCursor | undefined;

  /** A listing whose first (and only) page is `descriptors`: a reader that lists whole. */
  static whole(descriptors: readonly Descriptor[]): ReferrerListing {
    const listing = new ReferrerListing();
    listing.append(1, { descriptors: [...descriptors] });
    return listing;
  }

  /** The descriptors of the pages read so far, in listing order. */
  get descriptors(): readonly Descriptor[] {
    return this.#descriptors;
  }

  /** Pages read so far. */
  get pages(): number {
    return this.#pages;
  }

  /** Where the next page is; undefined once complete (or before the first page). */
  get next(): ReferrersCursor | undefined {
    return this.#next;
  }

  get complete(): boolean {
    return this.#pages > 0 && this.#next === undefined;
  }

  /**
   * Adds page `number` (1 for the first); a page already added, or one out of turn, is ignored,
   * so two readers that fetched the same page together add it once.
   */
  append(number: number, page: ReferrersPage): void {
    if (number !== this.#pages + 1 || (this.#pages > 0 && this.#next === undefined)) return;
    if (this.#pages > 0) {
      this.#seen ??= new Set(this.#descriptors.map((d) => d.digest));
      for (const d of page.descriptors) {
        if (this.#seen.has(d.digest)) continue;
        this.#seen.add(d.digest);
        this.#descriptors.push(d);
      }
    } else {
      this.#descriptors.push(...page.descriptors);
    }
    this.#pages = number;
    this.#next = page.next;
    if (this.#next === undefined) this.#seen = undefined;
  }
}
