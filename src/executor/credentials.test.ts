import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64, dockerSecret } from '../../test/helpers/secrets.js';
import { ConfigDir, cli } from '../../test/helpers/cli.js';
import { DistributionRegistry } from '../../test/helpers/registry/distribution.js';
import { pushImage } from '../../test/helpers/registry/seed.js';
import { API_VERSION, buildSnapshot } from '../policyset/index.js';
import { RegistryClient, ResourcePullSecretResolver, StaticCredentials } from '../registry/index.js';
import { Executor } from './executor.js';
import type { RequestCredentials } from './types.js';

describe('tenant isolation against a registry that requires auth', () => {
  const signer = new ConfigDir();
  let registry: DistributionRegistry;
  let client: RegistryClient;
  let ref: string;
  let digest: string;
  let tenantA: RequestCredentials;

  beforeAll(async () => {
    expect((await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', 'acme'])).status).toBe(
      0,
    );
    registry = await DistributionRegistry.start({ auth: 'basic' });
    const pusher = new RegistryClient({
      credentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'wonderland' } }),
    });
    digest = (await pushImage(pusher, { registry: registry.host, repository: 'private/app' }, 'v1')).digest;
    await pusher.close();
    ref = `${registry.host}/private/app:v1`;
    const signed = await cli(['sign', '--config-dir', signer.path, '-u', 'alice', '-p', 'wonderland', ref], {
      env: { DOCKER_CONFIG: signer.path },
    });
    expect(signed.status).toBe(0);
    client = new RegistryClient();
    tenantA = {
      identity: 'secret:team-a/regcred@1',
      auths: { [registry.host]: { username: 'alice', password: 'wonderland' } },
    };
  });
  afterAll(async () => {
    await client?.close();
    await registry?.stop();
    signer.cleanup();
  });

  function executor(extra: Partial<ConstructorParameters<typeof Executor>[0]> = {}): Executor {
    const e = new Executor({ registry: client, ...extra });
    e.setSnapshot(
      buildSnapshot({
        revision: 1,
        resources: [
          {
            apiVersion: API_VERSION,
            kind: 'ClusterTrustStore',
            metadata: { name: 'acme' },
            spec: { type: 'ca', certificates: readFileSync(join(signer.path, 'localkeys/acme.crt'), 'utf8') },
          },
          {
            apiVersion: API_VERSION,
            kind: 'ClusterTrustPolicy',
            metadata: { name: 'baseline' },
            spec: {
              version: '1.0',
              trustPolicies: [
                {
                  name: 'all',
                  registryScopes: ['*'],
                  signatureVerification: { level: 'strict' },
                  trustStores: ['ca:acme'],
                  trustedIdentities: ['*'],
                },
              ],
            },
          },
        ],
      }),
    );
    return e;
  }

  it("tenant B never gets tenant A's cached verdict, tag or referrers", async () => {
    const e = executor();
    const a = await e.check({ image: ref, namespace: 'team-a', credentials: [tenantA], deadline: Date.now() + 10_000 });
    expect(a.allowed).toBe(true);
    expect(a.digest).toBe(digest);

    const b = await e.check({ image: ref, namespace: 'team-b', deadline: Date.now() + 10_000 });
    expect(b.allowed).toBe(false);
    expect(b.error).toBeUndefined(); // definitive: this identity may not read the image
    expect(b.verdicts[0]).toMatchObject({ verified: false, code: 'ERR_REGISTRY_UNAUTHORIZED' });
    expect(b.reason).toContain('no credentials');
    expect(b.reason).toContain('registry credentials used: none (anonymous)');

    // Digest-pinned: no tag resolution, so only the referrer list and verdict caches could leak.
    const pinned = await e.check({
      image: `${registry.host}/private/app@${digest}`,
      namespace: 'team-b',
      deadline: Date.now() + 10_000,
    });
    expect(pinned.allowed).toBe(false);
    expect(pinned.verdicts[0]?.code).toBe('ERR_REGISTRY_UNAUTHORIZED');

    // Tenant A still gets its cached answer.
    expect(
      (await e.check({ image: ref, namespace: 'team-a', credentials: [tenantA], deadline: Date.now() + 10_000 }))
        .allowed,
    ).toBe(true);
  });

  it('resolves pullSecretNames through the PullSecretResolver', async () => {
    const resolver = new ResourcePullSecretResolver([
      dockerSecret('team-a', 'regcred', { [registry.host]: { auth: b64('alice:wonderland') } }),
    ]);
    const e = executor({ pullSecrets: resolver });
    expect(
      (await e.check({ image: ref, namespace: 'team-a', pullSecretNames: ['regcred'], deadline: Date.now() + 10_000 }))
        .allowed,
    ).toBe(true);
    // The same name in another namespace is another secret (absent here).
    expect(
      (await e.check({ image: ref, namespace: 'team-b', pullSecretNames: ['regcred'], deadline: Date.now() + 10_000 }))
        .allowed,
    ).toBe(false);
  });

  it('falls back to the default credentials', async () => {
    const e = executor({
      defaultCredentials: new StaticCredentials({ [registry.host]: { username: 'alice', password: 'wonderland' } }),
    });
    expect((await e.check({ image: ref, namespace: 'any', deadline: Date.now() + 10_000 })).allowed).toBe(true);
  });
});
