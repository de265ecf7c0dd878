import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Executor } from '../src/executor/index.js';
import { buildSnapshot } from '../src/policyset/index.js';
import { RegistryClient } from '../src/registry/index.js';
import { ConfigDir, cli } from '../test/helpers/cli.js';
import { DistributionRegistry } from '../test/helpers/registry/distribution.js';
import { pushImage, pushReferrer } from '../test/helpers/registry/seed.js';
import { measure, type Measurement } from './measure.js';

const SPDX = 'application/spdx+json';

export interface AttestationBench {
  /** Verdicts cached: what a repeated pod costs. */
  readonly warmVerdict: { readonly plain: Measurement; readonly required: Measurement };
  /** Registry objects cached, every verification run again (verdict cache off): the CPU an attestation adds. */
  readonly warmRegistry: { readonly plain: Measurement; readonly required: Measurement };
  /** Registry requests of one warm check (both modes), plain and with the required SBOM. */
  readonly requests: { readonly plain: number; readonly required: number };
}

/**
 * The extra cost of a required signed attestation (an SPDX SBOM signed by the same key) over
 * plain verification, through the executor against Debian's docker-registry on loopback, with
 * warm caches: the same image, checked in a namespace whose TrustPolicy requires the SBOM and in
 * one whose TrustPolicy does not.
 */
export async function benchAttestation(): Promise<AttestationBench> {
  const registry = await DistributionRegistry.start();
  const signer = new ConfigDir();
  try {
    const repo = { registry: registry.host, repository: 'bench/attested' };
    const seed = new RegistryClient();
    const image = await pushImage(seed, repo, 'v1');
    const sbom = await pushReferrer(seed, repo, image, SPDX, '{"spdxVersion":"SPDX-2.3"}');
    await seed.close();
    await cli(['cert', 'generate-test', '--config-dir', signer.path, 'bench']);
    for (const d of [image, sbom]) {
      const signed = await cli(['sign', '--config-dir', signer.path, `${registry.host}/bench/attested@${d.digest}`]);
      if (signed.status !== 0) throw new Error(signed.stderr);
    }
    const certificates = readFileSync(join(signer.path, 'localkeys/bench.crt'), 'utf8');
    const policy = (namespace: string, options: unknown[]) => ({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'TrustPolicy',
      metadata: { name: 'bench', namespace },
      spec: {
        version: '1.0',
        trustPolicies: [
          {
            name: 'bench',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:bench'],
            trustedIdentities: ['*'],
          },
        ],
        statementOptions: options,
      },
    });
    const snapshot = buildSnapshot({
      revision: 1,
      resources: [
        {
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'ClusterTrustStore',
          metadata: { name: 'bench' },
          spec: { type: 'ca', certificates },
        },
        policy('plain', []),
        policy('required', [{ statement: 'bench', requiredArtifacts: [{ artifactType: SPDX }] }]),
      ],
    });
    if (snapshot.invalid.length > 0) throw new Error(snapshot.invalid.map((i) => i.reason).join('; '));
    let requests = 0;
    const client = new RegistryClient({ onRequest: () => void requests++ });
    const reference = `${registry.host}/bench/attested@${image.digest}`;
    const checker = (executor: Executor, namespace: string) => async (): Promise<void> => {
      const d = await executor.check({ image: reference, namespace, deadline: Date.now() + 10_000 });
      if (!d.allowed) throw new Error(`bench check denied: ${d.reason ?? ''}`);
    };
    const run = async (verdictCacheTtlMs: number | undefined) => {
      const executor = new Executor({
        registry: client,
        ...(verdictCacheTtlMs === undefined ? {} : { verdictCacheTtlMs }),
      });
      executor.setSnapshot(snapshot);
      const plain = await measure('plain', checker(executor, 'plain'), 1500);
      const required = await measure('required', checker(executor, 'required'), 1500);
      return { plain, required, executor };
    };
    const warmVerdict = await run(undefined);
    const warmRegistry = await run(0);
    const count = async (check: () => Promise<void>): Promise<number> => {
      const before = requests;
      await check();
      return requests - before;
    };
    const result = {
      warmVerdict: { plain: warmVerdict.plain, required: warmVerdict.required },
      warmRegistry: { plain: warmRegistry.plain, required: warmRegistry.required },
      requests: {
        plain: await count(checker(warmRegistry.executor, 'plain')),
        required: await count(checker(warmRegistry.executor, 'required')),
      },
    };
    await client.close();
    return result;
  } finally {
    signer.cleanup();
    await registry.stop();
  }
}
