import { randomUUID } from 'node:crypto';
import { getHeapSnapshot } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from './strict-json.js';

// A parsed value is kept for long (caches hold descriptors for minutes); the text it came from
// must not be. V8 makes a substring of 13 or more characters a view into its parent, so a digest
// cut out of a manifest kept the whole manifest text alive. A heap snapshot (taken after a full
// collection) tells whether the text is still there.

async function heapText(): Promise<string> {
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  return chunks.join('');
}

/** In a function of its own, so that no temporary of the caller's frame holds the texts. */
function parseBoth(marker: string, digest: string): string[] {
  const text = JSON.stringify({ digest, padding: `${marker}-text${'x'.repeat(50_000)}` });
  const bytes = new TextEncoder().encode(JSON.stringify({ digest, padding: `${marker}-bytes${'y'.repeat(50_000)}` }));
  return [parseStrictJson(text), parseStrictJson(bytes)].map((doc) => (doc as { digest: string }).digest);
}

describe('strict JSON values', () => {
  it('do not keep the parsed text alive', async () => {
    const marker = randomUUID();
    const digest = `sha256:${'ab'.repeat(32)}`;
    const kept = parseBoth(marker, digest);
    const heap = await heapText();
    expect(kept).toEqual([digest, digest]);
    expect(heap.includes(`${marker}-text${'x'.repeat(20)}`)).toBe(false);
    expect(heap.includes(`${marker}-bytes${'y'.repeat(20)}`)).toBe(false);
  }, 60_000);
});
