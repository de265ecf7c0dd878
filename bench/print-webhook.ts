import type { WebhookBench } from './webhook.js';

/** Prints the webhook benchmark with its goals. */
export function printWebhook(w: WebhookBench): void {
  const line = (
    name: string,
    r: {
      rps: number;
      p50: number;
      p99: number;
      errors: number;
      non2xx: number;
      serverCpuMicros: number;
      switches: number | undefined;
    },
  ) =>
    `  ${name.padEnd(40)} ${r.rps.toFixed(0).padStart(6)} req/s   server CPU ${r.serverCpuMicros.toFixed(0).padStart(3)} µs/review${r.switches === undefined ? '' : `   ${r.switches.toFixed(2)} context switches/review`}${r.errors + r.non2xx > 0 ? `   errors ${r.errors}, non-2xx ${r.non2xx}` : ''}`;
  const lat = (name: string, r: { sent: number; errors: number; p50: number; p99: number; max: number }) =>
    `  ${name.padEnd(40)} p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   max ${r.max.toFixed(2)} ms   (${r.sent} reviews${r.errors > 0 ? `, ${r.errors} errors` : ''})`;
  console.log(
    'Webhook over HTTPS (AdmissionReview of a pod with three signed images; load generator in another process)',
  );
  console.log(
    '  throughput, 32 connections kept busy (autocannon; the three servers alternate, median of 3 rounds of 5 s):',
  );
  console.log(line('bare fastify HTTPS, fixed response', w.bare));
  console.log(line('portcullis HTTP stack, instant verifier', w.httpOnly));
  console.log(line('portcullis, warm caches', w.warm));
  console.log(
    line('portcullis, warm, review log off', w.unlogged) + `   ${(w.unloggedShare * 100).toFixed(0)}% of bare`,
  );
  const share = w.share;
  const rounds = w.shares.map((x) => `${(x * 100).toFixed(0)}%`).join(', ');
  console.log(
    `  warm throughput ${(share * 100).toFixed(0)}% of bare (median of rounds: ${rounds}) (goal ≥ 80%) ${share >= 0.8 ? 'OK' : 'BELOW GOAL'}`,
  );
  console.log('  latency at 500 reviews/s over 16 connections (open loop, timed in µs):');
  console.log(lat('bare, evenly spread', w.bareLatency.even));
  console.log(
    lat('portcullis warm, evenly spread', w.latency.even) +
      `   (goal p99 < 5 ms) ${w.latency.even.p99 < 5 ? 'OK' : 'OVER GOAL'}`,
  );
  console.log(lat('bare, bursts of 16 every 32 ms', w.bareLatency.bursts));
  console.log(lat('portcullis warm, bursts of 16', w.latency.bursts));
  console.log(`  cold review (image never seen): ${w.coldMs.map((m) => `${m.toFixed(1)} ms`).join(', ')}`);
  console.log(
    `  burst: ${w.burst.reviews} concurrent reviews of one new image in ${w.burst.ms.toFixed(0)} ms, ${w.burst.allowed} allowed, ${w.burst.registryRequests} registry requests (goal: one per registry object) ${JSON.stringify(w.burst.byKind)}`,
  );
}
