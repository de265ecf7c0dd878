import { benchAttestation } from './attestation.js';
import { benchRegistry } from './registry.js';
import { benchStartup, printStartup } from './startup.js';
import { benchRevocation } from './revocation.js';
import { benchVerification } from './verification.js';

// `npm run bench`: prints what each benchmark measures, with its baseline measured in the same run.
const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;

printStartup(benchStartup());

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
console.log(
  'Verification with revocation (JWS, RSA-3072 leaf, P-384 CAs; OCSP on the leaf from a local openssl responder)',
);
console.log(
  `  cached OCSP answer ${ms(revocation.cached.microseconds).padStart(10)}/op   fresh answer from the responder ${ms(revocation.fresh.microseconds).padStart(10)}/op`,
);

const registry = await benchRegistry();
console.log(
  "Verification against a local registry (Debian's docker-registry, tag schema; RSA-3072 test key, verify by tag unless noted)",
);
console.log(
  `  cold (new client)      ${ms(registry.cold.microseconds).padStart(10)}/op   ${registry.roundTrips.cold} registry requests`,
);
console.log(
  `  warm (shared client)   ${ms(registry.warmTag.microseconds).padStart(10)}/op   ${registry.roundTrips.warmTag} registry requests`,
);
console.log(
  `  warm, digest-pinned    ${ms(registry.warmDigest.microseconds).padStart(10)}/op   ${registry.roundTrips.warmDigest} registry requests`,
);

const attestation = await benchAttestation();
const us = (m: { microseconds: number }): string => `${m.microseconds.toFixed(1).padStart(8)} µs/op`;
console.log(
  'A required signed attestation (SPDX SBOM signed like the image) next to plain verification: the executor against docker-registry, warm caches',
);
for (const [label, m] of [
  ['verdicts cached (a repeated pod)  ', attestation.warmVerdict],
  ['registry cached, verdicts re-run  ', attestation.warmRegistry],
] as const) {
  console.log(
    `  ${label} plain ${us(m.plain)}   with required SBOM ${us(m.required)}   extra ${(m.required.microseconds - m.plain.microseconds).toFixed(1)} µs/op`,
  );
}
console.log(
  `  registry requests per warm check: plain ${attestation.requests.plain}, with required SBOM ${attestation.requests.required}`,
);

const { benchWebhook } = await import('./webhook.js');
const { printWebhook } = await import('./print-webhook.js');
printWebhook(await benchWebhook());
