import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../oci/descriptor.js';
import { digestOf } from '../util/digest.js';
import { GraphCopier } from './copier.js';
import type { ContentSource, ContentTarget } from './endpoint.js';
import { Limit } from './limit.js';

const manifestType = 'application/vnd.oci.image.manifest.v1+json';

function descriptor(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

/** An in-memory end that streams blobs in 1 KiB chunks and remembers what it holds. */
function memory(): ContentSource &
  ContentTarget & {
    blobs: Map<string, Uint8Array>;
    manifests: Map<string, Uint8Array>;
    inFlight: number;
    maxInFlight: number;
  } {
  const end = {
    name: 'memory',
    blobs: new Map<string, Uint8Array>(),
    manifests: new Map<string, Uint8Array>(),
    inFlight: 0,
    maxInFlight: 0,
    fetchManifest: async (d: Descriptor) => end.manifests.get(d.digest) as Uint8Array,
    async *openBlob(d: Descriptor) {
      const bytes = end.blobs.get(d.digest) as Uint8Array;
      for (let i = 0; i < bytes.length; i += 1024) yield bytes.subarray(i, i + 1024);
    },
    listReferrers: async () => [],
    hasManifest: async (d: Descriptor) => end.manifests.has(d.digest),
    resolveTag: async () => undefined,
    hasBlob: async (d: Descriptor) => end.blobs.has(d.digest),
    async pushBlob(d: Descriptor, content: AsyncIterable<Uint8Array>, onBytes: (n: number) => void) {
      end.inFlight++;
      end.maxInFlight = Math.max(end.maxInFlight, end.inFlight);
      const chunks: Uint8Array[] = [];
      for await (const c of content) {
        chunks.push(c);
        onBytes(c.length);
        await new Promise((r) => setTimeout(r, 1));
      }
      end.blobs.set(d.digest, Buffer.concat(chunks));
      end.inFlight--;
    },
    async pushManifest(bytes: Uint8Array, d: Descriptor) {
      end.manifests.set(d.digest, bytes);
      return { indexed: true };
    },
    listsReferrer: async () => true,
    addReferrer: async () => undefined,
  };
  return end;
}

describe('GraphCopier', () => {
  it('reports every chunk of every blob (byte-accurate progress) and keeps to the concurrency', async () => {
    const src = memory();
    const dst = memory();
    const layers = [5000, 3000, 4096, 1, 2500].map((n, i) => {
      const bytes = new Uint8Array(n).fill(i + 1);
      src.blobs.set(digestOf(bytes), bytes);
      return descriptor('application/vnd.oci.image.layer.v1.tar', bytes);
    });
    const config = new TextEncoder().encode('{}');
    src.blobs.set(digestOf(config), config);
    const body = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: descriptor('application/vnd.oci.image.config.v1+json', config),
        layers,
      }),
    );
    const root = descriptor(manifestType, body);
    src.manifests.set(root.digest, body);
    const seen = new Map<string, number[]>();
    const copier = new GraphCopier(src, dst, {
      referrers: false,
      concurrency: 2,
      events: { blobBytes: (d, n) => seen.set(d.digest, [...(seen.get(d.digest) ?? []), n]) },
    });
    const report = await copier.copy(root, 'v1');
    for (const l of layers) {
      expect(seen.get(l.digest)?.reduce((a, b) => a + b, 0)).toBe(l.size);
      expect(seen.get(l.digest)?.length).toBe(Math.ceil(l.size / 1024));
    }
    expect(report.bytes).toBe(layers.reduce((n, l) => n + l.size, 0) + config.length);
    expect(dst.maxInFlight).toBe(2);
    expect(dst.manifests.get(root.digest)).toEqual(body);
  });

  it('Limit runs at most n tasks at once, in order', async () => {
    const limit = new Limit(3);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limit.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 2));
          order.push(i);
          running--;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(order).toHaveLength(10);
  });
});
