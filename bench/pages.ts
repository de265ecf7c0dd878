import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Executor } from '../src/executor/index.js';
import { buildSnapshot } from '../src/policyset/index.js';
import { RegistryClient, type RegistryReader } from '../src/registry/index.js';
import { ConfigDir, cli } from '../test/helpers/cli.js';
import { ReferrersRegistry } from '../test/helpers/registry/referrers-registry.js';
import { pushCraftedSignature, pushImage } from '../test/helpers/registry/seed.js';
import { payloadFor } from '../test/helpers/signed.js';

/** Signatures per Referrers API page, and pages per image. */
export const PAGE_SIZE = 10;
export const PAGES = 2;

export interface PagesCase {
  /** Where the signature that passes is: first on page 1, or last on the last page. */
  readonly valid: 'first' | 'last';
  readonly mode: 'as needed' | 'whole';
  /** Referrers API requests of one cold check, and every request of it. */
  readonly listings: number;
  readonly requests: number;
  /** CPU (user + system) of the whole process per cold check, median of the rounds, ms. */
  readonly cpuMs: number;
  readonly allowed: boolean;
}

/**
 * Referrer pages fetched only as needed: a cold check (fresh executor) of a digest-pinned image
 * with PAGES × PAGE_SIZE signatures in the in-process Referrers-API registry, the one that
 * passes first or last (the others a stranger's), read page by page as needed and read whole
 * (the executor before: every page listed first), in the same run.
 */
export async function benchPages(rounds = 15): Promise<PagesCase[]> {
  const registry = await ReferrersRegistry.start({ pageSize: PAGE_SIZE });
  const acme = new ConfigDir();
  const stranger = new ConfigDir();
  const client = new RegistryClient();
  try {
    const key = async (dir: ConfigDir, name: string): Promise<{ keyPem: string; certPem: string }> => {
      const made = await cli(['cert', 'generate-test', '--config-dir', dir.path, '--key-type', 'ec', name]);
      if (made.status !== 0) throw new Error(made.stderr);
      return {
        keyPem: readFileSync(join(dir.path, `localkeys/${name}.key`), 'utf8'),
        certPem: readFileSync(join(dir.path, `localkeys/${name}.crt`), 'utf8'),
      };
    };
    const good = await key(acme, 'acme');
    const bad = await key(stranger, 'stranger');
    const images: Record<'first' | 'last', string> = { first: '', last: '' };
    for (const valid of ['first', 'last'] as const) {
      const repo = { registry: registry.host, repository: `bench/pages-${valid}` };
      const pushed = await pushImage(client, repo, 'v1', `pages-${valid}`);
      const subject = await client.resolve({ ...repo, digest: pushed.digest });
      const count = PAGE_SIZE * PAGES;
      for (let i = 0; i < count; i++) {
        const passes = valid === 'first' ? i === 0 : i === count - 1;
        await pushCraftedSignature(client, repo, subject, passes ? good : bad, payloadFor(subject));
      }
      images[valid] = `${registry.host}/${repo.repository}@${pushed.digest}`;
    }
    const snapshot = buildSnapshot({
      revision: 1,
      resources: [
        {
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'ClusterTrustStore',
          metadata: { name: 'acme' },
          spec: { type: 'ca', certificates: good.certPem },
        },
        {
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'TrustPolicy',
          metadata: { name: 'bench', namespace: 'bench' },
          spec: {
            version: '1.0',
            trustPolicies: [
              {
                name: 'bench',
                registryScopes: ['*'],
                signatureVerification: { level: 'strict' },
                trustStores: ['ca:acme'],
                trustedIdentities: ['*'],
              },
            ],
          },
        },
      ],
    });
    if (snapshot.invalid.length > 0) throw new Error(snapshot.invalid.map((i) => i.reason).join('; '));
    // The executor before pages were read as needed: a reader that can only list whole.
    const whole: RegistryReader = {
      resolve: (ref, call) => client.resolve(ref, call),
      listReferrers: (repo, subject, filter, call) => client.listReferrers(repo, subject, filter, call),
      fetchManifest: (repo, target, call) => client.fetchManifest(repo, target, call),
      fetchBlob: (repo, d, max, call) => client.fetchBlob(repo, d, max, call),
    };
    const cold = async (reader: RegistryReader, image: string): Promise<boolean> => {
      const e = new Executor({ registry: reader });
      e.setSnapshot(snapshot);
      return (await e.check({ image, namespace: 'bench', deadline: Date.now() + 10_000 })).allowed;
    };
    const out: PagesCase[] = [];
    for (const valid of ['first', 'last'] as const) {
      for (const [mode, reader] of [
        ['as needed', client],
        ['whole', whole],
      ] as const) {
        await cold(reader, images[valid]); // warm-up: connections, JIT
        registry.resetLog();
        const allowed = await cold(reader, images[valid]);
        const listings = registry.log.filter((l) => l.path.includes('/referrers/')).length;
        const requests = registry.log.length;
        const cpu: number[] = [];
        for (let i = 0; i < rounds; i++) {
          const before = process.cpuUsage();
          await cold(reader, images[valid]);
          const used = process.cpuUsage(before);
          cpu.push((used.user + used.system) / 1000);
        }
        cpu.sort((a, b) => a - b);
        out.push({ valid, mode, listings, requests, cpuMs: cpu[Math.floor(cpu.length / 2)] ?? NaN, allowed });
      }
    }
    return out;
  } finally {
    await client.close();
    await registry.stop();
    acme.cleanup();
    stranger.cleanup();
  }
}
