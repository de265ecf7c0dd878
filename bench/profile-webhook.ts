// Diagnostics: a steady-state CPU profile of the webhook under load
// (`npx tsx bench/profile-webhook.ts [portcullis|fake|bare]`), written to $PORTCULLIS_PROFILE
// (default webhook.cpuprofile; open it in Chrome DevTools).
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { admissionReview, pod } from '../src/http/testing/reviews.js';
import { startChild, type Mode } from './server-process.js';

const child = await startChild((process.argv[2] ?? 'portcullis') as Mode, {
  PORTCULLIS_PROFILE: process.env.PORTCULLIS_PROFILE ?? 'webhook.cpuprofile',
});
const { info } = child;
const images: string[] =
  info.images.length > 0 ? info.images : ['registry.example/a:v1', 'registry.example/b:v1', 'registry.example/c:v1'];
const body = JSON.stringify(
  admissionReview(pod({ containers: images.map((im: string, i: number) => [`c${i}`, im] as const) }, 'bench'), {
    namespace: 'bench',
  }),
);
const opts = {
  url: `${info.url}/validate?timeout=10s`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
  connections: 32,
  duration: 3,
  tlsOptions: { ca: readFileSync(info.ca) },
};
await autocannon(opts as autocannon.Options);
await child.ask('prof-start');
const r = await autocannon({ ...opts, duration: 5 } as autocannon.Options);
await child.ask('prof-stop');
console.log(r.requests.average, r.latency.p50, r.latency.p99);
child.process.kill();
