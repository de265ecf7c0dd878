import { benchRegistry } from './registry.js';
import { benchStartup, printStartup } from './startup.js';
import { benchRevocation } from './revocation.js';
import { benchVerification } from './verification.js';

// `npm run bench`: prints what each benchmark measures, with its baseline measured in the same
// run and its goal. `npm run bench -- far memory` runs only the sections named (startup,
// verification, revocation, registry, attestation, pages, webhook, far = single + pod + rollout, memory,
// policies, scaling).
const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;
const SECTIONS = [
  'startup',
  'verification',
  'revocation',
  'registry',
  'attestation',
  'pages',
  'webhook',
  'far',
  'single',
  'pod',
  'rollout',
  'memory',
  'policies',
  'scaling',
] as const;
const named = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of named) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`unknown bench section "${name}" (sections: ${SECTIONS.join(', ')})`);
}
const wanted = (section: (typeof SECTIONS)[number]): boolean =>
  named.length === 0 ||
  named.includes(section) ||
  (named.includes('far') && ['single', 'pod', 'rollout'].includes(section));

console.log(
  `node ${process.version}, ${(await import('node:os')).cpus().length} cores, load average ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

if (wanted('startup')) printStartup(benchStartup());

if (wanted('verification')) {
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
  const { benchSameSigner, printSameSigner } = await import('./same-signer.js');
  printSameSigner(await benchSameSigner());
}

if (wanted('revocation')) {
  const revocation = await benchRevocation();
  console.log(
    'Verification with revocation (JWS, RSA-3072 leaf, P-384 CAs; OCSP on the leaf from a local openssl responder)',
  );
  console.log(
    `  cached OCSP answer ${ms(revocation.cached.microseconds).padStart(10)}/op   fresh answer from the responder ${ms(revocation.fresh.microseconds).padStart(10)}/op`,
  );
}

if (wanted('registry')) {
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
}

if (wanted('webhook')) {
  const { benchWebhook } = await import('./webhook.js');
  const { printWebhook } = await import('./print-webhook.js');
  printWebhook(await benchWebhook());
}

if (wanted('attestation')) {
  const { benchAttestation } = await import('./attestation.js');
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
}

if (wanted('pages')) {
  const { benchPages, PAGE_SIZE, PAGES } = await import('./pages.js');
  const cases = await benchPages();
  console.log(
    `Referrer pages fetched only as needed: one cold check of an image with ${PAGES} Referrers API pages of ${PAGE_SIZE} signatures (the in-process registry), the one that passes first or last; CPU of the process (the registry's too), median`,
  );
  for (const c of cases) {
    console.log(
      `  valid ${c.valid.padEnd(5)} read ${c.mode.padEnd(9)}  ${String(c.listings).padStart(2)} referrers requests, ${String(c.requests).padStart(2)} in all, ${c.cpuMs.toFixed(1).padStart(6)} ms CPU${c.allowed ? '' : '  DENIED (wrong)'}`,
    );
  }
  const first = cases.find((c) => c.valid === 'first' && c.mode === 'as needed');
  console.log(`  goal: the first page only when its signature passes: ${first?.listings === 1 ? 'met' : 'NOT MET'}`);
}

if (wanted('single') || wanted('pod') || wanted('rollout') || wanted('memory')) {
  const cases = await import('./realistic/cases.js');
  const { printFarAway, printMemory } = await import('./realistic/print.js');
  const signer = await cases.benchSigner();
  if (wanted('single') || wanted('pod') || wanted('rollout')) {
    const single = wanted('single') ? await cases.benchSingleImage(signer) : undefined;
    const pod = wanted('pod') ? await cases.benchPod(signer) : undefined;
    const rollout = wanted('rollout') ? await cases.benchRollout(signer) : undefined;
    printFarAway(single, pod, rollout);
  }
  if (wanted('memory')) {
    const checkpoints = (process.env.BENCH_MEMORY_IMAGES ?? '10000,100000').split(',').map(Number);
    printMemory(await cases.benchMemory(signer, checkpoints));
  }
}

if (wanted('policies')) {
  const { benchPolicies, printPolicies } = await import('./policies.js');
  printPolicies(await benchPolicies());
}

if (wanted('scaling')) {
  const { benchSigner } = await import('./realistic/seed.js');
  const { benchScaling, printScaling } = await import('./realistic/scaling.js');
  printScaling(await benchScaling(await benchSigner()));
}
