import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushLayout } from '../helpers/registry/seed.js';
import { vector } from '../helpers/vectors.js';

// INDEX.md §A, again: each notation e2e layout pushed into a registry (as notation's e2e suite
// does) must verify exactly as it does from the layout.
const IMAGE = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const key = (name: string) => vector('notation/e2e/localkeys', name);
const policy = (name: string) => vector('notation/e2e/trustpolicies', name);

interface Case {
  readonly id: string;
  readonly layout: string;
  readonly policy: string;
  readonly stores: readonly string[];
}

const CASES: readonly Case[] = [
  {
    id: 'A1-2 valid signature, strict',
    layout: 'e2e-valid-signature',
    policy: 'trustpolicy.json',
    stores: ['e2e.crt'],
  },
  {
    id: 'A1-1 valid signature, trusted identity',
    layout: 'e2e-valid-signature',
    policy: 'valid_trusted_identity_trustpolicy.json',
    stores: ['e2e.crt'],
  },
  {
    id: 'A1-6 untrusted signer, strict',
    layout: 'e2e-valid-signature',
    policy: 'trustpolicy.json',
    stores: ['new_e2e.crt'],
  },
  {
    id: 'A1-8 untrusted signer, authenticity logged',
    layout: 'e2e-valid-signature',
    policy: 'override_permissive_trustpolicy.json',
    stores: ['new_e2e.crt'],
  },
  { id: 'A3-1 invalid envelope', layout: 'e2e-invalid-signature', policy: 'trustpolicy.json', stores: ['e2e.crt'] },
  { id: 'A2-10 skip', layout: 'e2e-invalid-signature', policy: 'skip_trustpolicy.json', stores: ['e2e.crt'] },
  {
    id: 'A4-1 expired certificate, strict',
    layout: 'e2e-with-expired-cert',
    policy: 'trustpolicy.json',
    stores: ['expired_e2e.crt'],
  },
  {
    id: 'A4-2 expired certificate, permissive',
    layout: 'e2e-with-expired-cert',
    policy: 'permissive_trustpolicy.json',
    stores: ['expired_e2e.crt'],
  },
  { id: 'A5-2 unsigned', layout: 'e2e', policy: 'trustpolicy.json', stores: ['e2e.crt'] },
  { id: 'A6 two signatures', layout: 'e2e-valid-multiple-signatures', policy: 'trustpolicy.json', stores: ['e2e.crt'] },
];

type Outcome = Record<string, unknown>;

async function verifyBoth(
  c: Case,
  registryRef: string,
): Promise<{ layout: Outcome; registry: Outcome; status: [number, number] }> {
  const config = new ConfigDir().policyFile(policy(c.policy)).store('ca', 'e2e', c.stores.map(key));
  try {
    const fromLayout = await cli([
      'verify',
      '--config-dir',
      config.path,
      '--oci-layout',
      `${vector('notation/e2e/oci_layout', c.layout)}@${IMAGE}`,
      '--output',
      'json',
    ]);
    const fromRegistry = await cli(['verify', '--config-dir', config.path, registryRef, '--output', 'json']);
    const pick = (o: Outcome): Outcome => ({
      verified: o.verified,
      digest: o.digest,
      signature: o.signature,
      failedCheck: o.failedCheck,
      code: o.code,
      warnings: (o.warnings as { check: string }[]).map((w) => w.check),
    });
    return {
      layout: pick(fromLayout.json()),
      registry: pick(fromRegistry.json()),
      status: [fromLayout.status, fromRegistry.status],
    };
  } finally {
    config.cleanup();
  }
}

describe.each([
  ['distribution 2.8 (tag schema)', () => DistributionRegistry.start()],
  ['a Referrers-API registry', () => ReferrersRegistry.start()],
] as const)('conformance layouts pushed into %s', (_name, start) => {
  let registry: DistributionRegistry | ReferrersRegistry;

  beforeAll(async () => {
    registry = await start();
    const client = new RegistryClient();
    for (const layout of new Set(CASES.map((c) => c.layout))) {
      await pushLayout(
        client,
        { registry: registry.host, repository: `e2e/${layout}` },
        vector('notation/e2e/oci_layout', layout),
      );
    }
    await client.close();
  });
  afterAll(async () => registry?.stop());

  it.each(CASES)('$id verifies as it does from the layout', async (c) => {
    const { layout, registry: fromRegistry, status } = await verifyBoth(c, `${registry.host}/e2e/${c.layout}@${IMAGE}`);
    expect(fromRegistry).toEqual(layout);
    expect(status[1]).toBe(status[0]);
  });
});
