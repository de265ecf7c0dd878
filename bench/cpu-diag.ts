import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { admissionReview, pod } from '../src/http/testing/reviews.js';
for (const mode of process.argv.slice(2)) {
  const child = spawn('node', ['--import', 'tsx', 'bench/webhook-server.ts', mode], { stdio: ['pipe', 'pipe', 'inherit'], env: process.env });
  const it = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ask = async (c: string) => { child.stdin!.write(c + '\n'); return JSON.parse((await it.next()).value); };
  const info = JSON.parse((await it.next()).value);
  const imgs = info.images.length ? info.images : ['r.example/a:v1','r.example/b:v1','r.example/c:v1'];
  const body = JSON.stringify(admissionReview(pod({ containers: imgs.map((im: string, i: number) => [`c${i}`, im]) }, 'bench'), { namespace: 'bench' }));
  const opts = { url: `${info.url}${'/validate'}?timeout=10s`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 32, duration: 3, tlsOptions: { ca: readFileSync(info.ca) } } as any;
  await autocannon(opts);
  const s0 = (await ask('cpu')).cpuMicros; const c0 = process.cpuUsage(); const t0 = performance.now();
  const r = await autocannon({ ...opts, duration: 6 });
  const s1 = (await ask('cpu')).cpuMicros; const c1 = process.cpuUsage(c0); const t1 = performance.now();
  const n = r.requests.total;
  console.log(mode, 'rps', r.requests.average, 'server µs/req', ((s1 - s0) / n).toFixed(1), 'server util', ((s1 - s0) / 1000 / (t1 - t0)).toFixed(2), 'client µs/req', ((c1.user + c1.system) / n).toFixed(1), 'client util', ((c1.user + c1.system) / 1000 / (t1 - t0)).toFixed(2));
  child.kill();
}
