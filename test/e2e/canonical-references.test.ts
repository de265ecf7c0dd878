import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhook } from '../../src/cli/serve.js';
import { DEFAULT_SERVE_CONFIG } from '../../src/config/serve-config.js';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage } from '../helpers/registry/seed.js';
import { TestWebhook } from '../helpers/webhook.js';
import { clusterTrustPolicy, clusterTrustStore, writePolicyList } from '../helpers/policy-list.js';

/**
 * A ClusterTrustPolicy with a strict statement scoped to one repository and a `*` statement at
 * level skip (the adversarial review's setup): every spelling under which the container runtime
 * pulls that repository must be decided by the scoped statement — in the webhook (/validate and
 * /mutate), the Gatekeeper provider (verify and mutate) and `portcullis verify` — and spellings
 * that may name another registry are refused. Before references were read canonically,
 * `localhost:05012/test-repo` and `LOCALHOST:5012/test-repo` fell through to `*` and were allowed.
 */
describe('every spelling of a repository is decided by the statement scoped to it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-spellings-'));
  const signer = new ConfigDir();
  const verifier = new ConfigDir();
  let registry: ReferrersRegistry;
  let webhook: TestWebhook;
  let port: number;
  /** [written, canonical] */
  let spellings: [string, string][];
  let ambiguous: string[];
  let signedDigest: string;

  beforeAll(async () => {
    registry = await ReferrersRegistry.start();
    port = Number(registry.host.split(':')[1]);
    const client = new RegistryClient();
    await pushImage(client, { registry: registry.host, repository: 'test-repo' }, 'unsigned');
    await pushImage(client, { registry: registry.host, repository: 'elsewhere' }, 'unsigned');
    signedDigest = (await pushImage(client, { registry: registry.host, repository: 'test-repo' }, 'signed')).digest;
    await client.close();
    const localhost = `localhost:${port}/test-repo:unsigned`;
    const loopback = `127.0.0.1:${port}/test-repo:unsigned`;
    spellings = [
      [localhost, localhost],
      [`localhost:0${port}/test-repo:unsigned`, localhost],
      [`LOCALHOST:${port}/test-repo:unsigned`, localhost],
      [`LocalHost:00${port}/test-repo:unsigned`, localhost],
      [loopback, loopback],
      [`127.0.0.1:0${port}/test-repo:unsigned`, loopback],
      [`[::ffff:127.0.0.1]:${port}/test-repo:unsigned`, loopback],
      [`[::FFFF:7F00:1]:${port}/test-repo:unsigned`, loopback],
    ];
    // getaddrinfo reads these as 127.0.0.1 (the runtime would pull the same image); Go's resolver does not.
    ambiguous = [
      `127.1:${port}/test-repo:unsigned`,
      `127.0.0.01:${port}/test-repo:unsigned`,
      `2130706433:${port}/test-repo:unsigned`,
    ];

    expect((await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', 'acme'])).status).toBe(
      0,
    );
    const pem = readFileSync(join(signer.path, 'localkeys', 'acme.crt'), 'utf8');
    expect((await cli(['sign', '--config-dir', signer.path, `${registry.host}/test-repo:signed`])).status).toBe(0);
    const statements = [
      // The scopes as a user might write them: canonicalised when the policy is read.
      {
        name: 'ours',
        registryScopes: [`LOCALHOST:0${port}/test-repo`, `127.0.0.1:${port}/test-repo`],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:acme'],
        trustedIdentities: ['*'],
      },
      { name: 'others', registryScopes: ['*'], signatureVerification: { level: 'skip' } },
    ];
    verifier
      .policy({ version: '1.0', trustPolicies: statements })
      .store('ca', 'acme', [join(signer.path, 'localkeys', 'acme.crt')]);

    const policies = writePolicyList(join(dir, 'policies'), [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'covered', labels: { scoped: 'true' } } },
      clusterTrustStore('acme', pem),
      clusterTrustPolicy('scoped', {
        namespaceSelector: { matchLabels: { scoped: 'true' } },
        version: '1.0',
        trustPolicies: statements,
      }),
    ]);
    webhook = await TestWebhook.start({
      policies,
      devCertDir: join(dir, 'cert'),
      webhook: { mutate: true },
    });
  });

  afterAll(async () => {
    await webhook?.stop();
    await registry?.stop();
    signer.cleanup();
    verifier.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const review = (endpoint: '/validate' | '/mutate', image: string) => webhook.review(image, 'covered', endpoint);
  const provider = (mode: 'verify' | 'mutate', image: string) => webhook.provider([`[covered]${image}`], mode);

  it('the `*` statement skips other repositories (the fallback the spellings must not reach)', async () => {
    const image = `127.0.0.1:${port}/elsewhere:unsigned`;
    expect((await review('/validate', image)).allowed).toBe(true);
    expect((await provider('verify', image))[0]?.error).toBeUndefined();
    expect((await cli(['verify', '--config-dir', verifier.path, image])).status).toBe(0);
  });

  it('/validate denies each spelling under the scoped statement, showing it as written and as read', async () => {
    for (const [written, canonical] of spellings) {
      const r = await review('/validate', written);
      expect(r.allowed, written).toBe(false);
      expect(r.status?.message).toContain('statement "ours"');
      expect(r.status?.message).toContain('ERR_NO_SIGNATURE');
      expect(r.status?.message).toContain(`image ${JSON.stringify(written)}`);
      if (written !== canonical) expect(r.status?.message).toContain(`read as ${canonical}`);
    }
  });

  it('/mutate denies each spelling too, and patches nothing', async () => {
    for (const [written] of spellings) {
      const r = await review('/mutate', written);
      expect(r.allowed, written).toBe(false);
      expect(r.patch).toBeUndefined();
      expect(r.status?.message).toContain('statement "ours"');
    }
  });

  it('the Gatekeeper provider rejects each spelling on verify and mutate', async () => {
    for (const [written, canonical] of spellings) {
      const [verified] = await provider('verify', written);
      expect(verified?.error, written).toContain('ERR_NO_SIGNATURE');
      expect(verified?.error).toContain('statement "ours"');
      expect(verified?.value).toMatchObject({ allowed: false, ...(written === canonical ? {} : { canonical }) });
      const [mutated] = await provider('mutate', written);
      expect(mutated?.error, written).toContain('ERR_NO_SIGNATURE');
    }
  });

  it('portcullis verify decides each spelling by the scoped statement', async () => {
    for (const [written, canonical] of spellings) {
      const r = await cli(['verify', '--config-dir', verifier.path, written, '--output', 'json']);
      expect(r.status, written).toBe(1);
      expect(r.json()).toMatchObject({
        verified: false,
        code: 'ERR_NO_SIGNATURE',
        policy: 'ours',
        ...(written === canonical ? {} : { canonical }),
      });
    }
  });

  // /mutate pins what was verified to the name it was verified under; an image admitted by a
  // `skip` statement was not verified, so it is left as written.
  it('/mutate and the provider pin a verified image to its canonical name, and leave a skipped one as written', async () => {
    const written = `LOCALHOST:0${port}/test-repo:signed`;
    const pinned = `localhost:${port}/test-repo@${signedDigest}`;
    const verified = await review('/mutate', written);
    expect(verified.allowed).toBe(true);
    expect(JSON.parse(Buffer.from(verified.patch as string, 'base64').toString('utf8'))).toEqual([
      { op: 'replace', path: '/spec/containers/0/image', value: pinned },
    ]);
    expect((await provider('mutate', written))[0]).toEqual({ key: `[covered]${written}`, value: pinned });

    const skipped = `127.0.0.1:${port}/elsewhere:unsigned`;
    const left = await review('/mutate', skipped);
    expect(left.allowed).toBe(true);
    expect(left.patch).toBeUndefined();
    expect((await provider('mutate', skipped))[0]).toEqual({ key: `[covered]${skipped}`, value: skipped });
    expect((await provider('verify', skipped))[0]?.value).toMatchObject({ allowed: true, verified: false });
  });

  it('refuses numeric spellings that resolvers read differently, everywhere (ERR_REF_AMBIGUOUS)', async () => {
    for (const image of ambiguous) {
      const validated = await review('/validate', image);
      expect(validated.allowed, image).toBe(false);
      expect(validated.status?.message).toContain('ERR_REF_AMBIGUOUS');
      expect((await review('/mutate', image)).allowed).toBe(false);
      expect((await provider('verify', image))[0]?.error).toContain('ERR_REF_AMBIGUOUS');
      expect((await provider('mutate', image))[0]?.error).toContain('ERR_REF_AMBIGUOUS');
      const verified = await cli(['verify', '--config-dir', verifier.path, image]);
      expect(verified.status).toBe(2);
      expect(verified.stderr).toContain('ERR_REF_AMBIGUOUS');
    }
  });

  it('reads registries.hosts in the canonical spelling: one registry named twice, or a spelling without one, is a configuration error', async () => {
    const start = (hosts: Record<string, { plainHttp: boolean; caFile: string | undefined }>) =>
      startWebhook({
        policies: join(dir, 'policies'),
        port: 0,
        host: '127.0.0.1',
        devCertDir: join(dir, 'cert'),
        config: {
          ...DEFAULT_SERVE_CONFIG,
          registries: { ...DEFAULT_SERVE_CONFIG.registries, hosts },
          logging: { level: 'silent' },
        },
      });
    await expect(
      start({
        'LOCALHOST:5000': { plainHttp: true, caFile: undefined },
        'localhost:05000': { plainHttp: false, caFile: undefined },
      }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('localhost:5000 twice'),
    });
    await expect(start({ 'registry.example:443': { plainHttp: false, caFile: undefined } })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('default port 443'),
    });
  });
});
