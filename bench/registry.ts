import { join } from 'node:path';
import { loadTrustPolicy } from '../src/policy/index.js';
import { parseReference } from '../src/reference/index.js';
import { RegistryClient } from '../src/registry/index.js';
import { verifyArtifact } from '../src/verify/index.js';
import { CertificateCache, parseCertificateFile } from '../src/x509/certificate.js';
import { readFileSync } from 'node:fs';
import { ConfigDir, cli } from '../test/helpers/cli.js';
import { DistributionRegistry } from '../test/helpers/registry/distribution.js';
import { pushImage } from '../test/helpers/registry/seed.js';
import { measure, type Measurement } from './measure.js';

export interface RegistryBench {
  readonly cold: Measurement;
  readonly warmTag: Measurement;
  readonly warmDigest: Measurement;
  readonly roundTrips: { readonly cold: number; readonly warmTag: number; readonly warmDigest: number };
}

/**
 * Verification latency against Debian's docker-registry on loopback (tag schema, no Referrers
 * API), signed by `portcullis sign`:
 * - cold: a new client each time (new connections, referrers support not yet known), by tag;
 * - warm: one long-lived client (keep-alive, support remembered), by tag and by digest.
 */
export async function benchRegistry(): Promise<RegistryBench> {
  const registry = await DistributionRegistry.start();
  const signer = new ConfigDir();
  try {
    const repo = { registry: registry.host, repository: 'bench/app' };
    const seedClient = new RegistryClient();
    const image = await pushImage(seedClient, repo, 'v1');
    await seedClient.close();
    await cli(['cert', 'generate-test', '--config-dir', signer.path, 'bench']);
    const signed = await cli(['sign', '--config-dir', signer.path, `${registry.host}/bench/app:v1`]);
    if (signed.status !== 0) throw new Error(signed.stderr);
    const policy = loadTrustPolicy(
      JSON.stringify({
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
      }),
    );
    const trusted = parseCertificateFile(new Uint8Array(readFileSync(join(signer.path, 'localkeys/bench.crt'))));
    const trustStores = {
      get: (type: string, name: string) => (type === 'ca' && name === 'bench' ? trusted : undefined),
    };
    const certificateCache = new CertificateCache();
    let requests = 0;
    const onRequest = (): void => void requests++;

    const verifyWith = async (client: RegistryClient, reference: string): Promise<void> => {
      const ref = parseReference(reference);
      // A digest is resolved as a tag is (its media type and size); the client caches it by digest.
      const artifact = await client.resolve(ref);
      const result = await verifyArtifact(
        { reference, repository: ref.name, artifact },
        { policy, trustStores, source: client.signatureSource(ref), at: new Date(), certificateCache },
      );
      if (!result.verified) throw new Error(`bench verification failed: ${result.error?.message}`);
    };
    const tagRef = `${registry.host}/bench/app:v1`;
    const digestRef = `${registry.host}/bench/app@${image.digest}`;

    const perOp = async (run: () => Promise<void>): Promise<number> => {
      const before = requests;
      await run();
      return requests - before;
    };

    const cold = await measure(
      'cold',
      async () => {
        const client = new RegistryClient({ onRequest });
        await verifyWith(client, tagRef);
        await client.close();
      },
      1500,
    );
    const coldTrips = await perOp(async () => {
      const client = new RegistryClient({ onRequest });
      await verifyWith(client, tagRef);
      await client.close();
    });
    const warmClient = new RegistryClient({ onRequest });
    const warmTag = await measure('warm tag', () => verifyWith(warmClient, tagRef), 1500);
    const warmDigest = await measure('warm digest', () => verifyWith(warmClient, digestRef), 1500);
    const roundTrips = {
      cold: coldTrips,
      warmTag: await perOp(() => verifyWith(warmClient, tagRef)),
      warmDigest: await perOp(() => verifyWith(warmClient, digestRef)),
    };
    await warmClient.close();
    return { cold, warmTag, warmDigest, roundTrips };
  } finally {
    signer.cleanup();
    await registry.stop();
  }
}
