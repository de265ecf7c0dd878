import { readFileSync } from 'node:fs';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { startBenchServe, type BenchServe } from './bench-serve.js';
import { seedImages, type BenchSigner } from './seed.js';

/**
 * One replica's figures for docs/scaling.md: a fresh `portcullis serve` (dist/, its own process)
 * reviews pods of one new digest-pinned image each (one signature, from the in-process
 * Referrers-API registry, no emulated latency: the server's own cost), 32 reviews at once; then
 * the same pods again (warm). Reviews per second, the server's CPU time per review
 * (/proc/<pid>/stat), RSS grown per new image, registry requests per new image.
 */

export interface ScalingPhase {
  readonly reviews: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Server CPU (user + system) per review, ms. */
  readonly cpuMsPerReview: number;
  readonly registryRequests: number;
  readonly denied: number;
}

export interface ScalingBench {
  readonly cold: ScalingPhase;
  readonly warm: ScalingPhase;
  readonly startMiB: number;
  readonly afterMiB: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based) → indexes 11 and 12 here.
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
}

async function phase(
  server: BenchServe,
  registry: ReferrersRegistry,
  images: readonly string[],
  width: number,
): Promise<ScalingPhase> {
  const pid = server.process.process.pid as number;
  const before = registry.log.length;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  let next = 0;
  let denied = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < images.length; i = next++) {
        if (!(await server.review([images[i] as string])).allowed) denied++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs(pid) - cpu0;
  return {
    reviews: images.length,
    seconds,
    perSecond: images.length / seconds,
    cpuMsPerReview: cpu / images.length,
    registryRequests: registry.log.length - before,
    denied,
  };
}

export async function benchScaling(signer: BenchSigner, count = 3000): Promise<ScalingBench> {
  const registry = await ReferrersRegistry.start();
  let server: BenchServe | undefined;
  try {
    const seeded = await seedImages({
      registry: registry.host,
      store: registry.store,
      count,
      signatures: 1,
      repository: (i) => `scale/app-${i % 100}`,
      prefix: 'scale',
      signer,
    });
    const images = seeded.map((img) => `${registry.host}/${img.pinned}`);
    server = await startBenchServe({ certPem: signer.certPem, caFiles: {}, connections: 64 });
    await new Promise((r) => setTimeout(r, 2000));
    const pid = server.process.process.pid as number;
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    const startMiB = rss();
    const cold = await phase(server, registry, images, 32);
    const afterMiB = rss();
    const warm = await phase(server, registry, images, 32);
    return { cold, warm, startMiB, afterMiB };
  } finally {
    await server?.stop();
    await registry.stop();
  }
}

export function printScaling(b: ScalingBench): void {
  console.log(
    'One replica (docs/scaling.md): pods of one digest-pinned image, 32 reviews at once, in-process registry (no latency)',
  );
  const line = (name: string, p: ScalingPhase): void =>
    console.log(
      `  ${name} ${p.perSecond.toFixed(0).padStart(6)} reviews/s   server CPU ${p.cpuMsPerReview.toFixed(2)} ms/review   registry requests ${(
        p.registryRequests / p.reviews
      ).toFixed(2)}/review   ${p.denied} denied`,
    );
  line('new images', b.cold);
  line('warm      ', b.warm);
  console.log(
    `  RSS ${b.startMiB.toFixed(0)} MiB at start, ${b.afterMiB.toFixed(0)} MiB after ${b.cold.reviews} new images (${(
      ((b.afterMiB - b.startMiB) * 1024) /
      b.cold.reviews
    ).toFixed(1)} KiB per image)`,
  );
}
