import { LRUCache } from 'lru-cache';
import { toPortcullisError, type PortcullisError } from '../errors/index.js';
import { parseReference, type ImageReference } from '../reference/index.js';

/**
 * Parsed image references by the string written in the pod spec. Parsing is pure, and the same
 * few images arrive on every review, so each is parsed once; bounded (lru-cache), and long
 * strings are not kept.
 */
export class ReferenceCache {
  readonly #parsed: LRUCache<string, ImageReference | PortcullisError>;

  constructor(maxEntries = 4096) {
    this.#parsed = new LRUCache({ max: maxEntries });
  }

  /** The reference, or the ERR_REF_INVALID (or other) error that parsing it gives. */
  parse(image: string): ImageReference | PortcullisError {
    const known = this.#parsed.get(image);
    if (known !== undefined) return known;
    let result: ImageReference | PortcullisError;
    try {
      result = parseReference(image);
    } catch (thrown) {
      result = toPortcullisError(thrown, 'ERR_REF_INVALID');
    }
    if (image.length <= 512) this.#parsed.set(image, result);
    return result;
  }
}
