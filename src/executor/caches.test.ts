import { describe, expect, it } from 'vitest';
import { CONTENT_ENTRY_OVERHEAD_BYTES, ExecutorCaches } from './caches.js';
import { resolveOptions, type ExecutorOptions } from './options.js';

/** The caches never touch the registry: a reader that is never called. */
const caches = (o: Omit<ExecutorOptions, 'registry'>): ExecutorCaches =>
  new ExecutorCaches(resolveOptions({ ...o, registry: {} as ExecutorOptions['registry'] }));

function fill(c: ExecutorCaches, count: number, bytes: number): void {
  for (let i = 0; i < count; i++) c.content.set(`sha256:${i.toString(16).padStart(64, '0')}`, new Uint8Array(bytes));
}

describe('the content cache', () => {
  it('holds a signature manifest and envelope for as many images as the keyed caches, however many more pass', () => {
    // Signatures are about 1 KiB: by bytes alone 64 MiB held 60,000 of them, three times the
    // images the other caches remember, so the heap kept growing long past their bounds.
    const c = caches({ referrersCacheMaxEntries: 100 });
    fill(c, 1_000, 1_024);
    expect(c.content.size).toBe(200);
  });

  it('counts what each entry costs beyond its bytes against the byte bound', () => {
    const c = caches({ contentCacheMaxBytes: 100 * 1_024 });
    fill(c, 1_000, 768);
    expect(c.content.size).toBe(Math.floor((100 * 1_024) / (768 + CONTENT_ENTRY_OVERHEAD_BYTES)));
    expect(c.content.calculatedSize).toBeLessThanOrEqual(100 * 1_024);
  });

  it('keeps the most recently used entries', () => {
    const c = caches({ referrersCacheMaxEntries: 10 });
    fill(c, 50, 16);
    expect(c.content.has(`sha256:${(49).toString(16).padStart(64, '0')}`)).toBe(true);
    expect(c.content.has(`sha256:${(0).toString(16).padStart(64, '0')}`)).toBe(false);
  });
});
