// Diagnostics (`npx tsx bench/calibrate.ts`): how the throughput of the bare fastify HTTPS server
// of `npm run bench` falls when its handler does N µs of busy work per request, and the same
// fixed response from a raw Node HTTPS handler without fastify, with its answers written one by
// one and per event-loop turn (as Portcullis writes them). It shows what the "80% of bare" goal
// leaves for the work of a review on the machine it runs on, and what batching the writes is
// worth by itself.
import { admissionReview, pod } from '../src/http/testing/reviews.js';
import { load } from './load.js';
import { startChild, type Mode } from './server-process.js';

const body = JSON.stringify(
  admissionReview(
    pod(
      {
        containers: [
          ['c0', 'r.example/a:v1'],
          ['c1', 'r.example/b:v1'],
          ['c2', 'r.example/c:v1'],
        ],
      },
      'bench',
    ),
    { namespace: 'bench' },
  ),
);
const runs: { mode: Mode; busyUs: number; batch?: true }[] = [
  { mode: 'bare', busyUs: 0 },
  { mode: 'raw', busyUs: 0 },
  { mode: 'raw', busyUs: 0, batch: true },
  ...[5, 10, 20].map((busyUs) => ({ mode: 'bare' as const, busyUs })),
];
let baseline: number | undefined;
for (const { mode, busyUs, batch } of runs) {
  const child = await startChild(mode, { BUSY_US: String(busyUs), ...(batch ? { BATCH_WRITES: '1' } : {}) });
  const r = await load(child, body, { connections: 32, durationS: 8 });
  if (mode === 'bare' && busyUs === 0) baseline = r.rps;
  const share = baseline === undefined ? '' : `   ${((100 * r.rps) / baseline).toFixed(0)}% of bare`;
  const name =
    mode === 'raw' ? `raw Node HTTPS${batch ? ', batched writes' : ''}` : `bare fastify + ${busyUs} µs of work`;
  console.log(
    name.padEnd(32),
    `${r.rps.toFixed(0).padStart(6)} req/s   server CPU ${r.serverCpuMicros.toFixed(0)} µs/request${share}`,
  );
  child.process.kill();
}
