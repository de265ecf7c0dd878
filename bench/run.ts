import { benchRegistry } from './registry.js';
import { benchRevocation } from './revocation.js';
import { benchVerification } from './verification.js';

// `npm run bench`: prints what each benchmark measures, with its baseline measured in the same run.
const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;

const results = await benchVerification();
console.log('Signature verification (RSA-3072 leaf, RSA-3072 intermediate and root; warm certificate cache)');
for (const r of results) {
  const ratio = r.full.microseconds / r.raw.microseconds;
  console.log(
    `  ${r.format.toUpperCase().padEnd(4)} full verification ${r.full.microseconds.toFixed(1).padStart(8)} µs/op   raw signature checks ${r.raw.microseconds
      .toFixed(1)
      .padStart(8)} µs/op   ratio ${ratio.toFixed(2)}x (goal ≤ 3x) ${ratio <= 3 ? 'OK' : 'OVER GOAL'}`,
  );
}

const revocation = await benchRevocation();
console.log('Verification with revocation (JWS, RSA-3072 leaf, P-384 CAs; OCSP on the leaf from a local openssl responder)');
console.log(`  cached OCSP answer ${ms(revocation.cached.microseconds).padStart(10)}/op   fresh answer from the responder ${ms(revocation.fresh.microseconds).padStart(10)}/op`);

const registry = await benchRegistry();
console.log("Verification against a local registry (Debian's docker-registry, tag schema; RSA-3072 test key, verify by tag unless noted)");
console.log(`  cold (new client)      ${ms(registry.cold.microseconds).padStart(10)}/op   ${registry.roundTrips.cold} registry requests`);
console.log(`  warm (shared client)   ${ms(registry.warmTag.microseconds).padStart(10)}/op   ${registry.roundTrips.warmTag} registry requests`);
console.log(`  warm, digest-pinned    ${ms(registry.warmDigest.microseconds).padStart(10)}/op   ${registry.roundTrips.warmDigest} registry requests`);

const { benchWebhook } = await import('./webhook.js');
const w = await benchWebhook();
const line = (name: string, r: { rps: number; p50: number; p99: number; errors: number; non2xx: number }) =>
  `  ${name.padEnd(38)} ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${r.p50} ms   p99 ${r.p99} ms${r.errors + r.non2xx > 0 ? `   errors ${r.errors}, non-2xx ${r.non2xx}` : ''}`;
console.log('Webhook over HTTPS (AdmissionReview of a pod with three signed images; autocannon in another process)');
console.log(line('bare fastify HTTPS, fixed response', w.bare));
console.log(line('portcullis HTTP stack, instant verifier', w.httpOnly));
console.log(line('portcullis, warm caches', w.warm));
const share = w.warm.rps / w.bare.rps;
console.log(`  warm throughput ${(share * 100).toFixed(0)}% of bare (goal ≥ 80%) ${share >= 0.8 ? 'OK' : 'BELOW GOAL'}`);
console.log(line('portcullis, warm, 500 reviews/s, 4 conns', w.at500) + `   (goal p99 < 5 ms) ${w.at500.p99 < 5 ? 'OK' : 'OVER GOAL'}`);
console.log(line('  the same over 16 conns (bursty)', w.at500Bursty));
console.log(`  cold review (image never seen): ${w.coldMs.map((m) => `${m.toFixed(1)} ms`).join(', ')}`);
console.log(
  `  burst: ${w.burst.reviews} concurrent reviews of one new image in ${w.burst.ms.toFixed(0)} ms, ${w.burst.allowed} allowed, ${w.burst.registryRequests} registry requests (goal: one per registry object) ${JSON.stringify(w.burst.byKind)}`,
);
