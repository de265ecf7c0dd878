import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { admissionReview, pod } from '/work/main/src/http/testing/reviews.js';
const mode = process.argv[2] ?? 'bare';
const child = spawn('node', ['--import', 'tsx', 'bench/webhook-server.ts', mode], { stdio: ['pipe', 'pipe', 'inherit'] });
const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const info = JSON.parse((await it.next()).value);
const imgs = info.images.length ? info.images : ['r.example/a:v1','r.example/b:v1','r.example/c:v1'];
const body = JSON.stringify(admissionReview(pod({ containers: imgs.map((im: string, i: number) => [`c${i}`, im]) }, 'bench'), { namespace: 'bench' }));
const opts = { url: `${info.url}/validate?timeout=10s`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 16, duration: 3, tlsOptions: { ca: readFileSync(info.ca) } } as any;
await autocannon({ ...opts, duration: 2 });
for (const c of [4, 16]) {
  const r = await autocannon({ ...opts, connections: c, duration: 6, overallRate: 500 });
  console.log(mode, c, r.requests.average, 'p50', r.latency.p50, 'p90', r.latency.p90, 'p99', r.latency.p99, 'max', r.latency.max);
}
child.kill();
