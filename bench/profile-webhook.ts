// Diagnostics: a steady-state CPU profile of the webhook under load (`npx tsx bench/profile-webhook.ts`),
// written to /tmp/prof/steady.cpuprofile (open it in Chrome DevTools).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { admissionReview, pod } from '../src/http/testing/reviews.js';
const child = spawn('node', ['--import', 'tsx', 'bench/webhook-server.ts', process.argv[2] ?? 'portcullis'], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'], env: { ...process.env, PORTCULLIS_PROFILE: process.env.PORTCULLIS_PROFILE ?? 'webhook.cpuprofile' } });
(child.stdio[3] as NodeJS.ReadableStream).resume(); // the log lines
const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const info = JSON.parse((await it.next()).value);
const images: string[] = info.images.length > 0 ? info.images : ['registry.example/a:v1', 'registry.example/b:v1', 'registry.example/c:v1'];
const body = JSON.stringify(admissionReview(pod({ containers: images.map((im: string, i: number) => [`c${i}`, im]) }, 'bench'), { namespace: 'bench' }));
const opts = { url: `${info.url}/validate?timeout=10s`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 32, duration: 3, tlsOptions: { ca: readFileSync(info.ca) } } as any;
await autocannon(opts);
child.stdin!.write('prof-start\n'); await it.next();
const r = await autocannon({ ...opts, duration: 5 });
child.stdin!.write('prof-stop\n'); await it.next();
console.log(r.requests.average, r.latency.p50, r.latency.p99);
child.stdin!.write('quit\n');
await new Promise((res) => child.on('exit', res));
