// Diagnostics: the webhook's CPU time for one cold review of a pod of 100 new images with two
// signatures each (issue 18's pod), without emulated latency: the in-process Referrers-API
// registry, a fresh `portcullis serve` (dist/) per run, CPU read from /proc/<pid>/stat around
// the one review. `npx tsx bench/realistic/cold-pod-cpu.ts [runs]`; with PORTCULLIS_CPU_PROF=<dir>
// each server writes a V8 CPU profile there when it stops (profiled-main.mjs); BENCH_THREADS=1
// prints each thread's CPU time (the main thread's beside V8's and libuv's).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { startBenchServe } from './bench-serve.js';
import { POD_SETTINGS } from './cases.js';
import { FAR_AWAY, startFarRegistry, type FarRegistry } from './far-registry.js';
import { cpuMs } from './scaling.js';
import { benchSigner, seedImages, type BenchSigner } from './seed.js';
import { createPrivateKey } from 'node:crypto';
import { Pki, codeSigningChain } from '../../test/helpers/pki.js';
import { parseCertificate } from '../../src/x509/certificate.js';

const runs = Number(process.argv[2] ?? 5);
const size = Number(process.env.BENCH_POD_SIZE ?? 100);
// BENCH_WARM=1: the server first reviews another pod of new images, so its code is compiled and
// optimised (a running server's cold caches) before the measured review.
const warm = process.env.BENCH_WARM !== undefined;
if (process.env.PORTCULLIS_CPU_PROF !== undefined) {
  // The server inherits this environment: profiled-main.mjs runs the build bench-serve would have run.
  process.env.PORTCULLIS_REAL_MAIN ??=
    process.env.BENCH_SERVE_MAIN ?? fileURLToPath(new URL('../../dist/cli/main.cjs', import.meta.url));
  process.env.BENCH_SERVE_MAIN = fileURLToPath(new URL('./profiled-main.mjs', import.meta.url));
}
// BENCH_CHAIN=ca: signed by an RSA-3072 leaf under a P-384 intermediate and root (a CA-issued
// signer, as most are) instead of the pod case's self-signed P-256 certificate.
const pki = process.env.BENCH_CHAIN === 'ca' ? new Pki() : undefined;
const signer: BenchSigner = pki === undefined ? await benchSigner() : caSigner(pki);
// BENCH_FAR=<rtt ms>: docker-registry behind the far-away proxy (HTTPS, HTTP/2) as in `npm run bench -- pod`.
const far: FarRegistry | undefined =
  process.env.BENCH_FAR === undefined
    ? undefined
    : await startFarRegistry({
        ...FAR_AWAY,
        rttMs: Number(process.env.BENCH_FAR),
        handshakeMs: 2 * Number(process.env.BENCH_FAR),
      });
const local = far === undefined ? await ReferrersRegistry.start() : undefined;
const host = far?.host ?? (local as ReferrersRegistry).host;
const results: { cpu: number; ms: number; allowed: boolean }[] = [];
try {
  const images = await seedImages({
    registry: far?.direct ?? host,
    ...(local === undefined ? {} : { store: local.store }),
    count: warm ? 2 * size : size,
    signatures: 2,
    repository: (i) => `pod/app-${i}`,
    prefix: 'pod',
    signer,
  });
  for (let run = 0; run < runs; run++) {
    const server = await startBenchServe({
      certPem: signer.certPem,
      caFiles: far === undefined ? {} : { [far.host]: far.caFile },
      registries: POD_SETTINGS,
    });
    try {
      const pid = server.process.process.pid as number;
      if (warm) await server.review(images.slice(size).map((i) => `${host}/${i.pinned}`));
      await new Promise((r) => setTimeout(r, 1500)); // start-up work settles
      const threads0 = threads(pid);
      const cpu0 = cpuMs(pid);
      const answer = await server.review(images.slice(0, size).map((i) => `${host}/${i.pinned}`));
      await new Promise((r) => setTimeout(r, 50)); // the log line and the answer's write
      const cpu = cpuMs(pid) - cpu0;
      if (process.env.BENCH_THREADS !== undefined) {
        const now = threads(pid);
        console.log([...now].map(([k, v]) => `${k} ${(v - (threads0.get(k) ?? 0)).toFixed(0)}`).join(', '));
      }
      results.push({ cpu, ms: answer.ms, allowed: answer.allowed });
      console.log(
        `run ${run}: server CPU ${cpu.toFixed(0)} ms, wall ${answer.ms.toFixed(0)} ms, ${answer.allowed ? 'allowed' : `DENIED ${answer.message}`}`,
      );
    } finally {
      await server.stop();
    }
  }
} finally {
  pki?.cleanup();
  await far?.stop();
  await local?.stop();
}
const sorted = results.map((r) => r.cpu).sort((a, b) => a - b);
console.log(
  `server CPU per cold review of ${size} images × 2 signatures: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms [${sorted[0]?.toFixed(0)}-${sorted.at(-1)?.toFixed(0)}]`,
);

// CPU ms per thread name (main thread, V8 workers, libuv pool), for diagnostics.
function threads(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const comm = /\((.*)\)/.exec(stat)?.[1] ?? '?';
    const f = stat.split(') ')[1]?.split(' ') ?? [];
    out.set(`${comm}#${tid}`, (out.get(`${comm}#${tid}`) ?? 0) + ((Number(f[11]) + Number(f[12])) / 100) * 1000);
  }
  return out;
}

function caSigner(p: Pki): BenchSigner {
  const chain = codeSigningChain(p, { leafKey: 'rsa-3072', caKey: 'ec-384', name: 'Bench CA' });
  return {
    key: createPrivateKey(chain.leaf.keyPem),
    chain: chain.chainDer.map((d) => parseCertificate(d)),
    certPem: chain.root.certPem,
  };
}
