import { readFileSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { admissionReview, pod } from '../../src/http/testing/reviews.js';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../../test/helpers/cli.js';
import { ChaosProxy, type ChaosMode } from '../../test/helpers/registry/chaos-proxy.js';
import { DistributionRegistry } from '../../test/helpers/registry/distribution.js';
import { pushImage } from '../../test/helpers/registry/seed.js';
import { startServeProcess, type ServeProcess } from '../../test/helpers/serve-process.js';
import { judge, type Answer, type ChaosWindow, type ContainerCase, type ReviewCase, type Truth } from './check.js';

/**
 * The soak: `portcullis serve` (its own process) under a steady open-loop load of mixed
 * AdmissionReviews — signed and unsigned images, images pushed while it runs, a tag that moves
 * between a signed and an unsigned image, pods spanning registries, a namespace no policy
 * covers — against real `docker-registry` instances behind chaos proxies that, on a schedule,
 * slow down, answer 429, answer garbage, and restart the registry. Every answer is judged
 * against the decision it must have (check.ts). Reported: RSS after warm-up and at the end, the
 * server's event-loop delay p99 (prom-client's, per 10 s scrape), answers past the deadline,
 * wrong answers, latency.
 */

export interface SoakOptions {
  readonly durationMs: number;
  /** Reviews per second. */
  readonly rate: number;
  readonly registries: number;
  /** One chaos cycle per registry (offset from each other), ms. */
  readonly cycleMs: number;
  /** RSS is compared from the end of the warm-up. Default 10% of the duration, between 10 s and 5 min. */
  readonly warmupMs?: number;
  /** How often a new image is pushed (70% of them signed), ms. */
  readonly freshEveryMs?: number;
  /** How often the moving tag is re-pointed, ms. */
  readonly moveEveryMs?: number;
  /** Progress lines (every 10 s); default silent. */
  readonly log?: (line: string) => void;
}

export interface SoakReport {
  readonly durationS: number;
  readonly targetRate: number;
  readonly sent: number;
  readonly achievedRate: number;
  readonly allowed: number;
  readonly denied: number;
  readonly deniedByChaos: number;
  readonly wrong: number;
  readonly wrongExamples: readonly string[];
  readonly pastDeadline: number;
  readonly errors: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /**
   * Medians of the five minutes (at most) after the warm-up and of the last five (RSS moves with every GC), and the
   * highest sample.
   */
  readonly rssMiB: {
    readonly afterWarmup: number;
    readonly end: number;
    readonly max: number;
    readonly growthPercent: number;
  };
  readonly eventLoopDelayP99Ms: { readonly median: number; readonly max: number };
  readonly chaos: Readonly<Record<string, number>>;
  readonly restarts: number;
  /** Signatures a registry lost in a restart right after they were pushed (the image then counts as unsigned). */
  readonly lostSignatures: number;
}

const TIMEOUT_S = 10;
const TAG_TTL_S = 30;
/** After the moving tag moves, answers may follow the old or the new image this long. */
const MOVE_TOLERANCE_MS = (TAG_TTL_S + 5) * 1000;

interface Image {
  readonly ref: string;
  readonly registry: number;
  readonly signed: boolean | 'moving';
}

interface Registry {
  readonly index: number;
  readonly real: DistributionRegistry;
  readonly proxy: ChaosProxy;
  readonly signed: Image[];
  readonly unsigned: Image[];
  readonly moving: Image;
  /** The moving tag's history: when it pointed at the signed (true) or unsigned image. */
  readonly moves: { at: number; signed: boolean }[];
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function sign(config: ConfigDir, ref: string): Promise<void> {
  const r = await cli(['sign', '--config-dir', config.path, ref]);
  if (r.status !== 0) throw new Error(`signing ${ref} failed: ${r.stderr}`);
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-soak-'));
  const signer = new ConfigDir();
  const registries: Registry[] = [];
  const client = new RegistryClient();
  let server: ServeProcess | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    const generated = await cli([
      'cert',
      'generate-test',
      '--config-dir',
      signer.path,
      '--key-type',
      'ec',
      '--default',
      'soak',
    ]);
    if (generated.status !== 0) throw new Error(generated.stderr);
    const pem = readFileSync(join(signer.path, 'localkeys', 'soak.crt'), 'utf8');

    log(`starting ${o.registries} docker-registry instances behind chaos proxies, seeding images`);
    for (let index = 0; index < o.registries; index++) {
      const real = await DistributionRegistry.start();
      const proxy = await ChaosProxy.start(real.host);
      const direct = real.host;
      const via = proxy.host;
      const signed: Image[] = [];
      const unsigned: Image[] = [];
      for (let i = 0; i < 5; i++) {
        await pushImage(client, { registry: direct, repository: `signed-${i}` }, 'v1', `r${index}-signed-${i}`);
        await sign(signer, `${direct}/signed-${i}:v1`);
        signed.push({ ref: `${via}/signed-${i}:v1`, registry: index, signed: true });
      }
      for (let i = 0; i < 3; i++) {
        await pushImage(client, { registry: direct, repository: `unsigned-${i}` }, 'v1', `r${index}-unsigned-${i}`);
        unsigned.push({ ref: `${via}/unsigned-${i}:v1`, registry: index, signed: false });
      }
      // The moving tag: v1 alternates between a signed and an unsigned image of one repository.
      await pushImage(client, { registry: direct, repository: 'moving' }, 'a', `r${index}-moving-a`);
      await sign(signer, `${direct}/moving:a`);
      await pushImage(client, { registry: direct, repository: 'moving' }, 'b', `r${index}-moving-b`);
      await pushImage(client, { registry: direct, repository: 'moving' }, 'v1', `r${index}-moving-a`);
      registries.push({
        index,
        real,
        proxy,
        signed,
        unsigned,
        moving: { ref: `${via}/moving:v1`, registry: index, signed: 'moving' },
        moves: [{ at: 0, signed: true }],
      });
    }

    const policies = join(dir, 'policies');
    mkdirSync(policies);
    writeFileSync(
      join(policies, 'soak.yaml'),
      `apiVersion: v1
kind: Namespace
metadata: { name: soak, labels: { soak: "true" } }
---
apiVersion: v1
kind: Namespace
metadata: { name: open }
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: soak }
spec:
  type: ca
  certificates: |
${pem
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: soak }
spec:
  namespaceSelector: { matchLabels: { soak: "true" } }
  version: "1.0"
  trustPolicies:
    - name: all
      registryScopes: ["*"]
      signatureVerification: { level: strict, override: { revocation: skip } }
      trustStores: ["ca:soak"]
      trustedIdentities: ["*"]
`,
    );
    server = await startServeProcess({
      policies,
      config: {
        webhook: { timeoutSeconds: TIMEOUT_S, shutdownDelaySeconds: 0, shutdownTimeoutSeconds: 5 },
        verification: { revocation: 'offline' },
        cache: { tagTtlSeconds: TAG_TTL_S },
        logging: { level: 'info' },
      },
      connections: 512,
    });
    const pid = server.process.pid as number;
    log(`portcullis serve (pid ${pid}) at ${server.url}`);

    const t0 = performance.now();
    const now = (): number => performance.now() - t0;

    // --- chaos, on a schedule per registry -------------------------------------------------------
    const windows: ChaosWindow[] = [];
    const chaosCounts: Record<string, number> = {};
    let restarts = 0;
    const phases: { from: number; to: number; mode: ChaosMode | 'restart'; slowMs?: number }[] = [
      { from: 0.55, to: 0.6, mode: 'slow', slowMs: 2_500 },
      { from: 0.6, to: 0.65, mode: 'slow', slowMs: 12_000 },
      { from: 0.65, to: 0.72, mode: 'rate-limit' },
      { from: 0.8, to: 0.85, mode: 'garbage' },
      { from: 0.85, to: 0.9, mode: 'restart' },
    ];
    const phaseOf = new Map<Registry, object>();
    for (const r of registries) {
      const offset = (r.index * o.cycleMs) / registries.length;
      for (let cycleStart = -offset; cycleStart < o.durationMs; cycleStart += o.cycleMs) {
        for (const phase of phases) {
          const from = cycleStart + phase.from * o.cycleMs;
          const to = cycleStart + phase.to * o.cycleMs;
          if (from < 0 || from >= o.durationMs) continue;
          timers.push(
            setTimeout(() => {
              windows.push({ registry: r.index, mode: phase.mode, from: now(), to: now() + (to - from) });
              chaosCounts[phase.mode] = (chaosCounts[phase.mode] ?? 0) + 1;
              if (phase.mode === 'restart') {
                restarts++;
                const down = Math.min(3_000, (to - from) / 2);
                void r.real.restart(down).then(
                  () => undefined,
                  (e: unknown) => log(`registry ${r.index} failed to restart: ${String(e)}`),
                );
                return;
              }
              r.proxy.mode = phase.mode;
              if (phase.slowMs !== undefined) r.proxy.slowMs = phase.slowMs;
              // Back to normal at the end, unless the next phase has begun (phases abut: the
              // end of one and the start of the next fire in the same millisecond).
              const token = {};
              phaseOf.set(r, token);
              timers.push(
                setTimeout(() => {
                  if (phaseOf.get(r) === token) r.proxy.mode = 'pass';
                }, to - from),
              );
            }, from),
          );
        }
      }
    }

    // --- images that appear, and a tag that moves -------------------------------------------------
    const fresh: Image[] = [];
    let lostSignatures = 0;
    let freshCount = 0;
    let pushing = false;
    const freshTimer = setInterval(() => {
      if (pushing) return;
      pushing = true;
      const r = pick(registries);
      const n = ++freshCount;
      const signed = Math.random() < 0.7;
      void (async () => {
        const d = await pushImage(
          client,
          { registry: r.real.host, repository: `fresh-${n}` },
          'v1',
          `fresh-${n}-${Date.now()}`,
        );
        if (signed) await sign(signer, `${r.real.host}/fresh-${n}:v1`);
        // The truth is what the registry holds: a registry killed (SIGKILL) just after the
        // signature was pushed can come back without it, although the push was answered.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const listed = await client.listReferrers(
          { registry: r.real.host, repository: `fresh-${n}` },
          { digest: d.digest },
          {},
        );
        if (signed && listed.length === 0) lostSignatures++;
        fresh.push({ ref: `${r.proxy.host}/fresh-${n}:v1`, registry: r.index, signed: listed.length > 0 });
        if (fresh.length > 50) fresh.shift();
      })()
        .catch(() => undefined) // a push during a restart: skip it
        .finally(() => (pushing = false));
    }, o.freshEveryMs ?? 2_000);
    const moveTimer = setInterval(() => {
      for (const r of registries) {
        const last = r.moves[r.moves.length - 1] as { signed: boolean };
        const next = !last.signed;
        const at = now();
        void pushImage(
          client,
          { registry: r.real.host, repository: 'moving' },
          'v1',
          `r${r.index}-moving-${next ? 'a' : 'b'}`,
        ).then(
          () => r.moves.push({ at, signed: next }),
          () => r.moves.push({ at, signed: next }), // maybe moved: the tolerance covers it
        );
      }
    }, o.moveEveryMs ?? 60_000);

    const truthOf = (image: Image, sentAt: number): Truth => {
      if (image.signed !== 'moving') return image.signed ? 'signed' : 'unsigned';
      const moves = (registries[image.registry] as Registry).moves;
      const lastMove = moves[moves.length - 1] as { at: number; signed: boolean };
      if (sentAt - lastMove.at < MOVE_TOLERANCE_MS && moves.length > 1) return 'either';
      return lastMove.signed ? 'signed' : 'unsigned';
    };

    // --- the load ---------------------------------------------------------------------------------
    const latencies: number[] = [];
    const wrongExamples: string[] = [];
    let sent = 0;
    let allowed = 0;
    let denied = 0;
    let deniedByChaos = 0;
    let wrong = 0;
    let pastDeadline = 0;
    let errors = 0;
    const inFlight = new Set<Promise<void>>();

    const makeReview = (sentAt: number): ReviewCase => {
      const count = 1 + Math.floor(Math.random() * 3);
      const containers: ContainerCase[] = [];
      for (let i = 0; i < count; i++) {
        const r = pick(registries);
        const roll = Math.random();
        const image =
          roll < 0.6
            ? pick(r.signed)
            : roll < 0.78
              ? pick(r.unsigned)
              : roll < 0.93 && fresh.length > 0
                ? pick(fresh)
                : r.moving;
        containers.push({ name: `c${i}`, image: image.ref, registry: image.registry, truth: truthOf(image, sentAt) });
      }
      return { containers, enforced: Math.random() < 0.9, sentAt };
    };

    /**
     * For a signed image denied as unsigned: what the registry itself lists now (tells a wrong truth from a wrong
     * answer).
     */
    const diagnose = async (reason: string): Promise<string> => {
      const m = /image "([^"/]+)\/([^":]+):[^"]*" \((sha256:[0-9a-f]{64})\)/.exec(reason);
      const r = registries.find((x) => x.proxy.host === m?.[1]);
      if (m === null || r === undefined || !reason.includes('ERR_NO_SIGNATURE')) return '';
      const list = await client
        .listReferrers({ registry: r.real.host, repository: m[2] as string }, { digest: m[3] as string }, {})
        .then(
          (l) => `${l.length} referrer(s)`,
          (e: unknown) => String(e),
        );
      return ` [the registry itself, asked directly now: ${list}]`;
    };

    const one = async (): Promise<void> => {
      const sentAt = now();
      const review = makeReview(sentAt);
      const namespace = review.enforced ? 'soak' : 'open';
      const body = admissionReview(
        pod({ containers: review.containers.map((c) => [c.name, c.image] as const) }, namespace),
        { namespace, uid: `soak-${sent}` },
      );
      let answer: Answer;
      try {
        const res = await request(`${(server as ServeProcess).url}/validate?timeout=${TIMEOUT_S}s`, {
          method: 'POST',
          dispatcher: (server as ServeProcess).agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(TIMEOUT_S * 1000 + 2_000),
        });
        const text = await res.body.text();
        const parsed = (res.statusCode === 200 ? JSON.parse(text) : undefined) as
          { response: { allowed: boolean; status?: { message?: string } } } | undefined;
        answer = {
          status: res.statusCode,
          allowed: parsed?.response.allowed,
          message: parsed?.response.status?.message ?? text,
          answeredAt: now(),
        };
      } catch (error) {
        answer = { status: 0, allowed: undefined, message: String(error), answeredAt: now() };
      }
      const ms = answer.answeredAt - sentAt;
      latencies.push(ms);
      if (ms > TIMEOUT_S * 1000) pastDeadline++;
      if (answer.status !== 200) errors++;
      const verdict = judge(review, answer, windows);
      if (!verdict.ok) {
        wrong++;
        if (wrongExamples.length < 20)
          wrongExamples.push(`t=${(sentAt / 1000).toFixed(1)}s ${verdict.reason}${await diagnose(verdict.reason)}`);
      } else if (verdict.kind === 'allowed') allowed++;
      else if (verdict.kind === 'denied') denied++;
      else deniedByChaos++;
    };

    const warmupMs = o.warmupMs ?? Math.min(300_000, Math.max(10_000, o.durationMs / 10));
    // RSS rises and falls with every garbage collection: compare the median of the first five
    // minutes (at most) after the warm-up with the median of the last five, not two samples.
    const rssSamples: { at: number; mib: number }[] = [];
    let rssMax = 0;
    const loopP99: number[] = [];
    const sampler = setInterval(() => {
      const rss = rssMiB(pid);
      rssMax = Math.max(rssMax, rss);
      rssSamples.push({ at: now(), mib: rss });
    }, 1_000);
    const scraper = setInterval(() => {
      void (server as ServeProcess).get('/metrics').then(
        ({ text }) => {
          const p99 = Number(/^portcullis_nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text)?.[1]);
          if (Number.isFinite(p99) && now() >= warmupMs) loopP99.push(p99 * 1000);
          log(
            `t=${(now() / 1000).toFixed(0)}s sent ${sent} wrong ${wrong} past-deadline ${pastDeadline} errors ${errors} in-flight ${inFlight.size} rss ${rssMiB(pid).toFixed(0)} MiB loop-p99 ${(p99 * 1000).toFixed(1)} ms`,
          );
        },
        () => undefined,
      );
    }, 10_000);

    const tickMs = 10;
    const perTick = (o.rate * tickMs) / 1000;
    let owed = 0;
    for (let tick = 0; ; tick++) {
      const due = tick * tickMs;
      if (due >= o.durationMs) break;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      owed += perTick;
      while (owed >= 1) {
        owed -= 1;
        sent++;
        const p = one().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }
    const elapsed = now();
    await Promise.all(inFlight);
    clearInterval(freshTimer);
    clearInterval(moveTimer);
    clearInterval(sampler);
    clearInterval(scraper);
    const windowMs = Math.min(300_000, Math.max(1_000, (elapsed - warmupMs) / 4));
    const medianOf = (from: number, to: number): number => {
      const xs = rssSamples
        .filter((r) => r.at >= from && r.at <= to)
        .map((r) => r.mib)
        .sort((a, b) => a - b);
      return xs.length === 0 ? rssMiB(pid) : quantile(xs, 0.5);
    };
    const rssAfterWarmup = medianOf(warmupMs, warmupMs + windowMs);
    const rssEnd = medianOf(elapsed - windowMs, elapsed);
    latencies.sort((a, b) => a - b);
    loopP99.sort((a, b) => a - b);
    return {
      durationS: Math.round(elapsed / 1000),
      targetRate: o.rate,
      sent,
      achievedRate: Math.round((sent / elapsed) * 1000),
      allowed,
      denied,
      deniedByChaos,
      wrong,
      wrongExamples,
      pastDeadline,
      errors,
      latencyMs: {
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies[latencies.length - 1] ?? NaN,
      },
      rssMiB: {
        afterWarmup: rssAfterWarmup,
        end: rssEnd,
        max: rssMax,
        growthPercent: ((rssEnd - rssAfterWarmup) / rssAfterWarmup) * 100,
      },
      eventLoopDelayP99Ms: { median: quantile(loopP99, 0.5), max: loopP99[loopP99.length - 1] ?? NaN },
      chaos: Object.fromEntries([
        ...registries.flatMap((r) =>
          Object.entries(r.proxy.counts).map(([mode, n]): [string, number] => [`${mode}@${r.index}`, n]),
        ),
        ...Object.entries(chaosCounts).map(([mode, n]): [string, number] => [`windows:${mode}`, n]),
      ]),
      restarts,
      lostSignatures,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    await server?.stop('SIGTERM');
    await client.close();
    for (const r of registries) {
      await r.proxy.stop();
      await r.real.stop();
    }
    signer.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
