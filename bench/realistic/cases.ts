import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { requestCounts, sequentialRoundTrips, type RequestCounts } from '../../test/helpers/registry/request-log.js';
import { startBenchServe, type BenchServe, type ReviewAnswer } from './bench-serve.js';
import { FAR_AWAY, startFarRegistry, type FarRegistry } from './far-registry.js';
import { cpuMs } from './scaling.js';
import { benchSigner, seedImages, type BenchSigner, type SeededImage } from './seed.js';

/**
 * The cases users of admission verifiers feel (issue 18), against registries far away
 * (far-registry.ts), each run on a fresh `portcullis serve` (cold caches): one new image by
 * digest and by tag; one pod with 100 distinct images, two signatures each, cold and throttled;
 * a rollout burst over three throttled registries; memory after 10,000 and 100,000 images.
 */

export interface Sample {
  readonly ms: number;
  readonly allowed: boolean;
  readonly roundTrips: number;
  readonly requests: RequestCounts;
  /** Connections the server opened to the registry for it. */
  readonly connections: number;
  readonly http2: number;
  /** The server's CPU time (user + system, all threads) while it answered, ms (/proc, 10 ms ticks). */
  readonly cpuMs: number;
}

/** Sends one review and reads what the registry saw of it (the proxy's log is reset first). */
async function observed(server: BenchServe, registry: FarRegistry, images: readonly string[]): Promise<Sample> {
  registry.proxy.resetLog();
  const pid = server.process.process.pid as number;
  const cpu0 = cpuMs(pid);
  const answer = await server.review(images);
  // The log entry of the last answer closes a moment after the client has read it.
  await new Promise((r) => setTimeout(r, 20));
  const cpu = cpuMs(pid) - cpu0;
  const log = registry.proxy.log;
  return {
    ms: answer.ms,
    allowed: answer.allowed,
    roundTrips: sequentialRoundTrips(log),
    requests: requestCounts(log),
    connections: registry.proxy.connections,
    http2: log.filter((e) => e.http2).length,
    cpuMs: cpu,
  };
}

// --- one image ------------------------------------------------------------------------------

export interface SingleImageBench {
  /** The first image a fresh server sees (by tag): connections and the registry's capabilities learned too. */
  readonly first: readonly Sample[];
  readonly digest: readonly Sample[];
  readonly tag: readonly Sample[];
}

export async function benchSingleImage(signer: BenchSigner, runs = 3, perRun = 3): Promise<SingleImageBench> {
  const registry = await startFarRegistry();
  try {
    const images = await seedImages({
      registry: registry.direct,
      count: runs * (1 + 2 * perRun),
      signatures: 1,
      repository: (i) => `single/app-${i}`,
      prefix: 'single',
      signer,
    });
    const first: Sample[] = [];
    const digest: Sample[] = [];
    const tag: Sample[] = [];
    let next = 0;
    const take = (): SeededImage => images[next++] as SeededImage;
    for (let run = 0; run < runs; run++) {
      const server = await startBenchServe({ certPem: signer.certPem, caFiles: { [registry.host]: registry.caFile } });
      try {
        first.push(await observed(server, registry, [`${registry.host}/${take().tagged}`]));
        for (let i = 0; i < perRun; i++) {
          digest.push(await observed(server, registry, [`${registry.host}/${take().pinned}`]));
          tag.push(await observed(server, registry, [`${registry.host}/${take().tagged}`]));
        }
      } finally {
        await server.stop();
      }
    }
    return { first, digest, tag };
  } finally {
    await registry.stop();
  }
}

// --- one pod, 100 images ----------------------------------------------------------------------

export interface PodBench {
  readonly digest: readonly Sample[];
  readonly tag: readonly Sample[];
  readonly throttledDigest: readonly Sample[];
  readonly throttledTag: readonly Sample[];
  readonly throttleRate: number;
}

/** The setting a pod of 100 images needs: the default registries.maxImagesPerReview (50) denies the rest. */
export const POD_SETTINGS = { maxImagesPerReview: 100 } as const;

export async function benchPod(signer: BenchSigner, runs = 3, size = 100): Promise<PodBench> {
  const registry = await startFarRegistry();
  const throttleRate = 100;
  try {
    const images = await seedImages({
      registry: registry.direct,
      count: size,
      signatures: 2,
      repository: (i) => `pod/app-${i}`,
      prefix: 'pod',
      signer,
    });
    const pinned = images.map((i) => `${registry.host}/${i.pinned}`);
    const tagged = images.map((i) => `${registry.host}/${i.tagged}`);
    const once = async (list: readonly string[]): Promise<Sample> => {
      const server = await startBenchServe({
        certPem: signer.certPem,
        caFiles: { [registry.host]: registry.caFile },
        registries: POD_SETTINGS,
      });
      try {
        return await observed(server, registry, list);
      } finally {
        await server.stop();
      }
    };
    const digest: Sample[] = [];
    const tag: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      digest.push(await once(pinned));
      tag.push(await once(tagged));
    }
    const throttledDigest: Sample[] = [];
    const throttledTag: Sample[] = [];
    for (let run = 0; run < Math.max(1, runs - 1); run++) {
      // A fresh token bucket each time: the registry has not seen us for a while.
      registry.proxy.network = { ...FAR_AWAY, requestsPerSecond: throttleRate, retryAfterSeconds: 1 };
      throttledDigest.push(await once(pinned));
      registry.proxy.network = { ...FAR_AWAY, requestsPerSecond: throttleRate, retryAfterSeconds: 1 };
      throttledTag.push(await once(tagged));
    }
    return { digest, tag, throttledDigest, throttledTag, throttleRate };
  } finally {
    await registry.stop();
  }
}

// --- a rollout burst ------------------------------------------------------------------------------

export interface RolloutBench {
  readonly pods: number;
  readonly images: number;
  readonly registries: number;
  readonly ratePerRegistry: number;
  readonly windowS: number;
  readonly allowed: number;
  readonly wrong: number;
  readonly wrongExamples: readonly string[];
  readonly pastDeadline: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly requests: RequestCounts;
  /**
   * Registry objects the images need at least: each image's manifest (HEAD) and, when signed, its
   * referrers and one signature's manifest and envelope.
   */
  readonly neededObjects: number;
}

/** A small deterministic PRNG (mulberry32): the same rollout every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function benchRollout(
  signer: BenchSigner,
  o: { pods?: number; images?: number; registries?: number; rate?: number; windowS?: number } = {},
): Promise<RolloutBench> {
  const podCount = o.pods ?? 1000;
  const imageCount = o.images ?? 200;
  const registryCount = o.registries ?? 3;
  const rate = o.rate ?? 50;
  const windowS = o.windowS ?? 10;
  const registries: FarRegistry[] = [];
  let server: BenchServe | undefined;
  try {
    for (let r = 0; r < registryCount; r++) registries.push(await startFarRegistry());
    // Image i lives on registry i % 3; every tenth is unsigned (its pods must be denied).
    const signed = (i: number): boolean => i % 10 !== 9;
    const refs: string[] = new Array<string>(imageCount);
    for (let r = 0; r < registryCount; r++) {
      const reg = registries[r] as FarRegistry;
      const mine = Array.from({ length: imageCount }, (_, i) => i).filter((i) => i % registryCount === r);
      const seeded = await seedImages({
        registry: reg.direct,
        count: mine.length,
        signatures: (k) => (signed(mine[k] as number) ? 1 : 0),
        repository: (k) => `rollout/app-${mine[k]}`,
        prefix: 'rollout',
        signer,
      });
      seeded.forEach((s, k) => (refs[mine[k] as number] = `${reg.host}/${s.tagged}`));
    }
    for (const reg of registries) reg.proxy.network = { ...FAR_AWAY, requestsPerSecond: rate, retryAfterSeconds: 1 };
    server = await startBenchServe({
      certPem: signer.certPem,
      caFiles: Object.fromEntries(registries.map((r) => [r.host, r.caFile])),
      connections: 1024,
    });
    for (const reg of registries) reg.proxy.resetLog();
    // Each image is a Deployment whose pods (podCount / imageCount of them) its ReplicaSet
    // creates 100 ms apart, from a moment spread over the window.
    const rand = random(18);
    const perImage = Math.ceil(podCount / imageCount);
    const schedule: { at: number; image: number }[] = [];
    for (let i = 0; i < imageCount; i++) {
      const start = rand() * (windowS * 1000 - perImage * 100);
      for (let k = 0; k < perImage && schedule.length < podCount; k++) schedule.push({ at: start + k * 100, image: i });
    }
    schedule.sort((a, b) => a.at - b.at);
    const answers: { image: number; answer: ReviewAnswer }[] = [];
    const t0 = performance.now();
    await Promise.all(
      schedule.map(
        (s) =>
          new Promise<void>((resolve) => {
            setTimeout(
              () => {
                void (server as BenchServe).review([refs[s.image] as string]).then((answer) => {
                  answers.push({ image: s.image, answer });
                  resolve();
                });
              },
              Math.max(0, s.at - (performance.now() - t0)),
            );
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const latencies = answers.map((a) => a.answer.ms).sort((x, y) => x - y);
    const wrongExamples: string[] = [];
    let wrong = 0;
    let pastDeadline = 0;
    for (const { image, answer } of answers) {
      if (answer.status !== 200 || !(answer.ms <= 10_000)) pastDeadline++;
      if (answer.allowed !== signed(image)) {
        wrong++;
        if (wrongExamples.length < 3)
          wrongExamples.push(`${refs[image]}: ${answer.allowed ? 'allowed' : 'denied'} ${answer.message}`);
      }
    }
    const requests = requestCounts(registries.flatMap((r) => r.proxy.log));
    const signedImages = Array.from({ length: imageCount }, (_, i) => i).filter(signed).length;
    return {
      pods: answers.length,
      images: imageCount,
      registries: registryCount,
      ratePerRegistry: rate,
      windowS,
      allowed: answers.filter((a) => a.answer.allowed).length,
      wrong,
      wrongExamples,
      pastDeadline,
      latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? NaN },
      requests,
      neededObjects: imageCount + signedImages * 3,
    };
  } finally {
    await server?.stop();
    for (const r of registries) await r.stop();
  }
}

// --- memory ----------------------------------------------------------------------------------------

export interface MemoryBench {
  readonly startMiB: number;
  /** The server's heap at start (its /metrics). */
  readonly startHeap: HeapFigures;
  /** [images verified so far, RSS MiB, V8 heap used MiB] */
  readonly points: readonly (readonly [number, number, number])[];
  /**
   * At each checkpoint: the heap as /metrics gives it; RSS again after 15 s without reviews (at rest: the server's
   * idle collection, memory.idleCollectionSeconds, 5 s by default, has run by then), with the heap and the number of
   * idle collections made so far.
   */
  readonly details: readonly {
    readonly images: number;
    readonly heap: HeapFigures;
    readonly idleRssMiB: number;
    readonly idleHeap: HeapFigures;
    readonly idleCollections: number;
  }[];
  readonly denied: number;
  readonly seconds: number;
  /** How long "at rest" waited after each checkpoint's last review (BENCH_IDLE_WAIT_MS, default 15 s). */
  readonly idleWaitSeconds: number;
}

/** MiB, from the server's /metrics (prom-client's Node figures). */
export interface HeapFigures {
  readonly used: number;
  readonly total: number;
  /** The young generation's committed size (two semi-spaces). */
  readonly newSpace: number;
  readonly external: number;
}

/**
 * RSS of a fresh server as distinct digest-pinned images (one signature each) pass through, in
 * pods of 10, 8 reviews at a time. The registry is the in-process Referrers-API registry,
 * seeded straight into its store: docker-registry takes 40-70 images a second to seed here.
 */
export async function benchMemory(signer: BenchSigner, checkpoints = [10_000, 100_000]): Promise<MemoryBench> {
  const total = Math.max(...checkpoints);
  const registry = await ReferrersRegistry.start();
  let server: BenchServe | undefined;
  try {
    const images = await seedImages({
      registry: registry.host,
      store: registry.store,
      count: total,
      signatures: 1,
      repository: (i) => `mem/app-${i % 500}`,
      prefix: 'mem',
      signer,
    });
    server = await startBenchServe({ certPem: signer.certPem, caFiles: {} });
    const s = server;
    await new Promise((r) => setTimeout(r, 2000));
    const startMiB = await steadyRss(s);
    const startHeap = await heapFigures(s);
    const points: [number, number, number][] = [];
    const details: MemoryBench['details'][number][] = [];
    const idleWaitMs = Number(process.env.BENCH_IDLE_WAIT_MS ?? 15_000);
    let denied = 0;
    let done = 0;
    let t0 = performance.now();
    for (const checkpoint of [...checkpoints].sort((a, b) => a - b)) {
      let next = done;
      const worker = async (): Promise<void> => {
        for (let i = next; i < checkpoint; i = next) {
          next = Math.min(checkpoint, i + 10);
          const pod = images.slice(i, next).map((img) => `${registry.host}/${img.pinned}`);
          const answer = await s.review(pod);
          if (!answer.allowed) denied++;
          if (registry.log.length > 10_000) registry.log.length = 0;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      done = checkpoint;
      points.push([checkpoint, await steadyRss(s), await heapUsedMiB(s)]);
      const heap = await heapFigures(s);
      // What the process keeps once the burst is over: the server collects once it has been idle
      // for memory.idleCollectionSeconds (5 s by default; BENCH_IDLE_WAIT_MS must exceed it).
      const paused = performance.now();
      await new Promise((r) => setTimeout(r, idleWaitMs));
      const idleRssMiB = await steadyRss(s);
      details.push({
        images: checkpoint,
        heap,
        idleRssMiB,
        idleHeap: await heapFigures(s),
        idleCollections: await idleCollections(s),
      });
      t0 += performance.now() - paused;
    }
    return {
      startMiB,
      startHeap,
      points,
      details,
      denied,
      seconds: (performance.now() - t0) / 1000,
      idleWaitSeconds: idleWaitMs / 1000,
    };
  } finally {
    await server?.stop();
    await registry.stop();
  }
}

/** The server's V8 heap in use (its /metrics), MiB: tells live objects from memory the heap keeps. */
async function heapUsedMiB(server: BenchServe): Promise<number> {
  const text = (await server.process.get('/metrics')).text;
  const m = /^\w*nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return m === null ? NaN : Number(m[1]) / 1048576;
}

async function heapFigures(server: BenchServe): Promise<HeapFigures> {
  const text = (await server.process.get('/metrics')).text;
  const metric = (name: string, labels = ''): number => {
    const m = new RegExp(`^\\w*${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+(?:\\.\\d+)?(?:e\\+\\d+)?)$`, 'm').exec(
      text,
    );
    return m === null ? NaN : Number(m[1]) / 1048576;
  };
  return {
    used: metric('nodejs_heap_size_used_bytes'),
    total: metric('nodejs_heap_size_total_bytes'),
    newSpace: metric('nodejs_heap_space_size_total_bytes', '{space="new"}'),
    external: metric('nodejs_external_memory_bytes'),
  };
}

/** portcullis_idle_collections_total of the server (NaN from a build without it). */
async function idleCollections(server: BenchServe): Promise<number> {
  const m = /^\w*idle_collections_total (\d+)$/m.exec((await server.process.get('/metrics')).text);
  return m === null ? NaN : Number(m[1]);
}

/** The median of five RSS samples over two seconds (RSS moves with every collection). */
async function steadyRss(server: BenchServe): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 400));
    samples.push(server.rssMiB());
  }
  return samples.sort((a, b) => a - b)[2] as number;
}

export { benchSigner };
