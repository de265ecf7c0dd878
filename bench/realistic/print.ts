import type { HeapFigures, MemoryBench, PodBench, RolloutBench, Sample, SingleImageBench } from './cases.js';
import { FAR_AWAY } from './far-registry.js';

/** Prints the cases of cases.ts, each with its goal beside its figure. */

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number): string => `${x.toFixed(0)} ms`;
const verdict = (ok: boolean): string => (ok ? 'OK' : 'OVER GOAL');

function spread(samples: readonly Sample[]): string {
  const times = samples.map((s) => s.ms);
  return `median ${ms(median(times))} [${ms(Math.min(...times))}–${ms(Math.max(...times))}] over ${samples.length}`;
}

function traffic(samples: readonly Sample[]): string {
  const trips = samples.map((s) => s.roundTrips);
  const requests = samples.map((s) => s.requests.total);
  const connections = samples.map((s) => s.connections);
  const range = (xs: readonly number[]): string =>
    Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`;
  const h2 = samples.every((s) => s.http2 === s.requests.total)
    ? ', HTTP/2'
    : samples.some((s) => s.http2 > 0)
      ? ', partly HTTP/2'
      : '';
  return `${range(trips)} sequential round trips, ${range(requests)} requests, ${range(connections)} new connections${h2}`;
}

export function printFarAway(
  single: SingleImageBench | undefined,
  pod: PodBench | undefined,
  rollout: RolloutBench | undefined,
): void {
  console.log(
    `Registries far away (docker-registry behind a proxy on 127.0.0.1: ${FAR_AWAY.rttMs} ms round trips, ${FAR_AWAY.handshakeMs} ms more per new connection (TCP + TLS 1.3), ${((FAR_AWAY.bytesPerSecond ?? 0) / 1048576).toFixed(0)} MiB/s per connection, HTTPS offering HTTP/2; a fresh portcullis serve each run, default settings unless noted)`,
  );
  if (single !== undefined) {
    const d = single.digest;
    const t = single.tag;
    const dOk = median(d.map((s) => s.ms)) < 170 && Math.max(...d.map((s) => s.roundTrips)) <= 3;
    const tOk = median(t.map((s) => s.ms)) < 220 && Math.max(...t.map((s) => s.roundTrips)) <= 4;
    console.log(
      `  one new image by digest        ${spread(d)}; ${traffic(d)}   (goal ≤ 3 round trips, < 170 ms) ${verdict(dOk)}`,
    );
    console.log(
      `  one new image by tag           ${spread(t)}; ${traffic(t)}   (goal ≤ 4 round trips, < 220 ms) ${verdict(tOk)}`,
    );
    console.log(
      `  a fresh server's first image   ${spread(single.first)}; ${traffic(single.first)}   (by tag; new connections, registry capabilities learned)`,
    );
    if ([...d, ...t, ...single.first].some((s) => !s.allowed)) console.log('  SOME SINGLE-IMAGE REVIEWS WERE DENIED');
  }
  if (pod !== undefined) {
    const line = (name: string, samples: readonly Sample[], goal: string, ok: boolean): void => {
      const allowed = samples.filter((s) => s.allowed).length;
      const refetched = Math.max(...samples.map((s) => s.requests.refetched));
      const throttled = samples.map((s) => s.requests.byStatus[429] ?? 0);
      console.log(
        `  ${name.padEnd(30)} ${spread(samples)}; server CPU ${ms(median(samples.map((s) => s.cpuMs)))} [${ms(Math.min(...samples.map((s) => s.cpuMs)))}–${ms(Math.max(...samples.map((s) => s.cpuMs)))}]; ${allowed}/${samples.length} allowed; ${traffic(samples)}; ${refetched} objects fetched twice${Math.max(...throttled) > 0 ? `; 429s ${throttled.join(', ')}` : ''}   (${goal}) ${verdict(ok)}`,
      );
    };
    console.log('  one pod, 100 distinct images × 2 signatures, cold caches (registries.maxImagesPerReview: 100):');
    line(
      'by digest',
      pod.digest,
      'goal < 400 ms',
      median(pod.digest.map((s) => s.ms)) < 400 && pod.digest.every((s) => s.allowed),
    );
    line('by tag', pod.tag, 'goal < 400 ms', median(pod.tag.map((s) => s.ms)) < 400 && pod.tag.every((s) => s.allowed));
    const inTime = (samples: readonly Sample[]): boolean => samples.every((s) => s.allowed && s.ms < 10_000);
    line(
      `by digest, ${pod.throttleRate} requests/s`,
      pod.throttledDigest,
      'goal: every image decided inside the 10 s deadline',
      inTime(pod.throttledDigest),
    );
    line(
      `by tag, ${pod.throttleRate} requests/s`,
      pod.throttledTag,
      'goal: every image decided inside the 10 s deadline',
      inTime(pod.throttledTag),
    );
  }
  if (rollout !== undefined) {
    const r = rollout;
    console.log(
      `  rollout: ${r.pods} pods over ${r.windowS} s, ${r.images} images (by tag, one in ten unsigned) on ${r.registries} registries limited to ${r.ratePerRegistry} requests/s each:`,
    );
    console.log(
      `    latency p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)}; ${r.allowed} allowed; past the deadline ${r.pastDeadline} (goal 0) ${verdict(r.pastDeadline === 0)}; wrong ${r.wrong} (goal 0) ${verdict(r.wrong === 0)}`,
    );
    console.log(
      `    registry requests ${r.requests.total} (${Object.entries(r.requests.byStatus)
        .map(([s, n]) => `${n}×${s}`)
        .join(
          ', ',
        )}); objects ${r.requests.objects} (the images need ${r.neededObjects}); fetched again ${r.requests.refetched}${r.requests.worst === undefined ? '' : ` (most: ${r.requests.worst.request} ×${r.requests.worst.times})`} (goal 0) ${verdict(r.requests.refetched === 0)}`,
    );
    for (const w of r.wrongExamples) console.log(`    wrong: ${w}`);
  }
}

export function printMemory(m: MemoryBench): void {
  console.log(
    'Memory (RSS of a fresh portcullis serve, default cache settings; distinct digest-pinned images with one signature each, pods of 10, from the in-process Referrers-API registry)',
  );
  const at = (n: number): number | undefined => m.points.find(([k]) => k === n)?.[1];
  const line = m.points
    .map(
      ([n, rss, heap]) => `${n.toLocaleString('en')} images ${rss.toFixed(0)} MiB (heap in use ${heap.toFixed(0)} MiB)`,
    )
    .join(', ');
  console.log(`  at start ${m.startMiB.toFixed(0)} MiB; ${line}; ${m.denied} denied; ${m.seconds.toFixed(0)} s`);
  const heap = (h: HeapFigures): string =>
    `heap used ${h.used.toFixed(0)}, total ${h.total.toFixed(0)} (young generation ${h.newSpace.toFixed(0)}), external ${h.external.toFixed(0)} MiB`;
  console.log(`  V8 at start: ${heap(m.startHeap)}`);
  for (const d of m.details)
    console.log(
      `  V8 after ${d.images.toLocaleString('en')} images (during the burst): ${heap(d.heap)}; at rest (${m.idleWaitSeconds} s without reviews, ${d.idleCollections} idle collection${d.idleCollections === 1 ? '' : 's'} so far): RSS ${d.idleRssMiB.toFixed(0)} MiB, ${heap(d.idleHeap)}`,
    );
  const ten = at(10_000);
  const restAt = (n: number): number | undefined => m.details.find((d) => d.images === n)?.idleRssMiB;
  if (ten !== undefined)
    console.log(`  after 10,000 images, during the burst ${ten.toFixed(0)} MiB (goal < 200 MiB) ${verdict(ten < 200)}`);
  const tenRest = restAt(10_000);
  if (tenRest !== undefined)
    console.log(`  after 10,000 images, at rest ${tenRest.toFixed(0)} MiB (goal < 200 MiB) ${verdict(tenRest < 200)}`);
  const last = m.points.at(-1);
  if (last !== undefined && ten !== undefined && last[0] > 10_000) {
    const growth = ((last[1] - ten) / ten) * 100;
    console.log(
      `  after ${last[0].toLocaleString('en')} images, during the burst ${last[1].toFixed(0)} MiB, ${growth >= 0 ? '+' : ''}${growth.toFixed(0)}% on 10,000 (goal: flat, within 10%) ${verdict(growth < 10)}`,
    );
    const lastRest = restAt(last[0]);
    if (lastRest !== undefined && tenRest !== undefined) {
      const restGrowth = ((lastRest - tenRest) / tenRest) * 100;
      console.log(
        `  after ${last[0].toLocaleString('en')} images, at rest ${lastRest.toFixed(0)} MiB, ${restGrowth >= 0 ? '+' : ''}${restGrowth.toFixed(0)}% on 10,000 at rest (goal: flat, within 10%) ${verdict(restGrowth < 10)}`,
      );
    }
  }
}
