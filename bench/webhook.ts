import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { admissionReview, pod } from '../src/http/testing/reviews.js';
import { openLoop, type OpenLoopResult } from './open-loop.js';
import { load, type LoadResult } from './load.js';
import { startChild, type Child } from './server-process.js';

function body(images: readonly string[], namespace = 'bench'): string {
  return JSON.stringify(
    admissionReview(pod({ containers: images.map((image, i) => [`c${i}`, image] as const) }, namespace), { namespace }),
  );
}

/** Latency at 500 reviews/s: evenly spread, and in bursts of 16 (as a rollout's ReplicaSet sends them). */
async function latencyAt500(
  child: Child,
  payload: string,
): Promise<{ readonly even: OpenLoopResult; readonly bursts: OpenLoopResult }> {
  const common = {
    url: child.info.url,
    path: '/validate?timeout=10s',
    ca: readFileSync(child.info.ca, 'utf8'),
    body: payload,
    rate: 500,
    durationS: 8,
    connections: 16,
  };
  return { even: await openLoop(common), bursts: await openLoop({ ...common, burst: 16 }) };
}

export interface WebhookBench {
  readonly bare: LoadResult;
  readonly bareLatency: { readonly even: OpenLoopResult; readonly bursts: OpenLoopResult };
  /** The full HTTP stack (parsing, routing, metrics, logging, HTTPS) with an instant verifier: where the time goes. */
  readonly httpOnly: LoadResult;
  readonly warm: LoadResult;
  /** The same with the log level at silent: what the one JSON line per review costs. */
  readonly unlogged: LoadResult;
  readonly unloggedShare: number;
  /** Warm throughput over bare throughput, per round (sorted), and their median. */
  readonly shares: readonly number[];
  readonly share: number;
  readonly latency: { readonly even: OpenLoopResult; readonly bursts: OpenLoopResult };
  readonly coldMs: readonly number[];
  readonly burst: {
    readonly reviews: number;
    readonly allowed: number;
    readonly ms: number;
    readonly registryRequests: number;
    readonly byKind: Record<string, number>;
  };
}

/** The middle value when ordered by `by` (rounds: the round with the median throughput). */
function median<T>(values: readonly T[], by: (v: T) => number): T {
  return [...values].sort((x, y) => by(x) - by(y))[Math.floor(values.length / 2)] as T;
}
const byRps = (r: LoadResult): number => r.rps;
const itself = (x: number): number => x;

/**
 * The webhook under load over HTTPS, next to a bare fastify HTTPS server (same run, same machine).
 * The three servers run side by side and the throughput runs alternate (bare, HTTP stack,
 * Portcullis) for ROUNDS rounds: this machine's speed drifts by ±20% over a minute, and
 * alternating makes the drift hit all three alike. The share is the median of the rounds' shares.
 */
const ROUNDS = 3;

export async function benchWebhook(): Promise<WebhookBench> {
  const children: Child[] = [];
  try {
    const bareChild = await startChild('bare');
    children.push(bareChild);
    const fakeChild = await startChild('fake');
    children.push(fakeChild);
    const child = await startChild('portcullis');
    children.push(child);
    const quiet = await startChild('portcullis', { BENCH_LOG_LEVEL: 'silent' });
    children.push(quiet);
    const { url, ca, images, fresh } = child.info;
    const agent = new Agent({ connect: { ca: readFileSync(ca, 'utf8') }, connections: 256 });
    const review = async (imgs: readonly string[]): Promise<boolean> => {
      const res = await request(`${url}/validate?timeout=10s`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: body(imgs),
      });
      const json = (await res.body.json()) as { response: { allowed: boolean } };
      return json.response.allowed;
    };
    // Cold: each review is the first for its image (resolve, referrers, manifest, envelope, verify).
    const coldMs: number[] = [];
    for (const image of fresh.slice(0, 4)) {
      const started = performance.now();
      if (!(await review([image]))) throw new Error('cold review denied');
      coldMs.push(performance.now() - started);
    }
    // Burst: 1,000 concurrent reviews of pods using one image not seen before.
    await child.ask('reset');
    const burstImage = fresh[4] as string;
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 1000 }, () => review([burstImage])));
    const burstMs = performance.now() - started;
    const stats = await child.ask('stats');
    // Warm: the three images verified once, then load.
    if (!(await review(images))) throw new Error('warm-up review denied');
    await agent.close();

    const barePayload = body(['a', 'b', 'c']);
    const fakePayload = body(['registry.example/a:v1', 'registry.example/b:v1', 'registry.example/c:v1']);
    const payload = body(images);
    const quietPayload = body(quiet.info.images);
    await load(quiet, quietPayload, { connections: 1, durationS: 1 }); // verifies its images once
    const rounds: { bare: LoadResult; httpOnly: LoadResult; warm: LoadResult; unlogged: LoadResult }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const bare = await load(bareChild, barePayload, { connections: 32, durationS: 5 });
      const httpOnly = await load(fakeChild, fakePayload, { connections: 32, durationS: 5 });
      const warm = await load(child, payload, { connections: 32, durationS: 5 });
      const unlogged = await load(quiet, quietPayload, { connections: 32, durationS: 5 });
      rounds.push({ bare, httpOnly, warm, unlogged });
    }
    const shares = rounds.map((r) => r.warm.rps / r.bare.rps).sort((x, y) => x - y);
    return {
      bare: median(
        rounds.map((r) => r.bare),
        byRps,
      ),
      httpOnly: median(
        rounds.map((r) => r.httpOnly),
        byRps,
      ),
      warm: median(
        rounds.map((r) => r.warm),
        byRps,
      ),
      unlogged: median(
        rounds.map((r) => r.unlogged),
        byRps,
      ),
      unloggedShare: median(
        rounds.map((r) => r.unlogged.rps / r.bare.rps),
        itself,
      ),
      shares,
      share: median(shares, itself),
      bareLatency: await latencyAt500(bareChild, barePayload),
      latency: await latencyAt500(child, payload),
      coldMs,
      burst: {
        reviews: answers.length,
        allowed: answers.filter(Boolean).length,
        ms: burstMs,
        registryRequests: stats.total,
        byKind: stats.counts,
      },
    };
  } finally {
    for (const c of children) c.process.kill();
  }
}
