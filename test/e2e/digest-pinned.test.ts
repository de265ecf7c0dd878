import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushCraftedSignature, pushImage } from '../helpers/registry/seed.js';
import { TestWebhook } from '../helpers/webhook.js';
import { clusterTrustPolicy, clusterTrustStore, writePolicyList } from '../helpers/policy-list.js';

/**
 * A digest-pinned reference is checked like a tag: the signed payload must name the media type
 * and size of the manifest the registry holds for the digest, not only the digest. The review
 * found a payload with the right digest, `mediaType: …index.v1+json` and `size: 999` for a
 * 517-byte image manifest verifying through `verify repo@sha256:…` and the webhook.
 */
describe('digest-pinned references are checked like tags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pinned-'));
  const signer = new ConfigDir();
  const verifier = new ConfigDir();
  let registry: ReferrersRegistry;
  let webhook: TestWebhook;
  let crafted: { tag: string; pinned: string; digest: string };
  let honest: { tag: string; pinned: string };

  beforeAll(async () => {
    registry = await ReferrersRegistry.start();
    expect(
      (await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', '--default', 'acme']))
        .status,
    ).toBe(0);
    const keyPem = readFileSync(join(signer.path, 'localkeys', 'acme.key'), 'utf8');
    const certPem = readFileSync(join(signer.path, 'localkeys', 'acme.crt'), 'utf8');
    const client = new RegistryClient();
    const image = await pushImage(client, { registry: registry.host, repository: 'crafted' }, 'v1');
    const payload = {
      targetArtifact: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: image.digest, size: 999 },
    };
    await pushCraftedSignature(
      client,
      { registry: registry.host, repository: 'crafted' },
      image,
      { keyPem, certPem },
      new TextEncoder().encode(JSON.stringify(payload)),
    );
    const other = await pushImage(client, { registry: registry.host, repository: 'honest' }, 'v1');
    await client.close();
    crafted = {
      tag: `${registry.host}/crafted:v1`,
      pinned: `${registry.host}/crafted@${image.digest}`,
      digest: image.digest,
    };
    honest = { tag: `${registry.host}/honest:v1`, pinned: `${registry.host}/honest@${other.digest}` };
    expect((await cli(['sign', '--config-dir', signer.path, honest.pinned])).status).toBe(0);

    const statement = {
      name: 'all',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:acme'],
      trustedIdentities: ['*'],
    };
    verifier
      .policy({ version: '1.0', trustPolicies: [statement] })
      .store('ca', 'acme', [join(signer.path, 'localkeys', 'acme.crt')]);
    const policies = writePolicyList(join(dir, 'policies'), [
      clusterTrustStore('acme', certPem),
      clusterTrustPolicy('all', { version: '1.0', trustPolicies: [statement] }),
    ]);
    webhook = await TestWebhook.start({ policies, devCertDir: join(dir, 'cert') });
  });

  afterAll(async () => {
    await webhook?.stop();
    await registry?.stop();
    signer.cleanup();
    verifier.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const validate = (image: string) => webhook.review(image, 'default');

  it('portcullis verify rejects the payload by digest as by tag (ERR_PAYLOAD_MISMATCH)', async () => {
    for (const ref of [crafted.pinned, crafted.tag, `${crafted.tag}@${crafted.digest}`]) {
      const r = await cli(['verify', '--config-dir', verifier.path, ref, '--output', 'json']);
      expect(r.status, ref).toBe(1);
      expect(r.json()).toMatchObject({ verified: false, failedCheck: 'integrity', code: 'ERR_PAYLOAD_MISMATCH' });
    }
  });

  it('the webhook rejects it by digest as by tag', async () => {
    for (const ref of [crafted.pinned, crafted.tag]) {
      const r = await validate(ref);
      expect(r.allowed, ref).toBe(false);
      expect(r.status?.message).toContain('ERR_PAYLOAD_MISMATCH');
    }
  });

  it('an honest signature still verifies by digest, with one manifest HEAD more than before (four requests)', async () => {
    registry.resetLog();
    const r = await cli(['verify', '--config-dir', verifier.path, honest.pinned, '--output', 'json']);
    expect(r.status).toBe(0);
    expect(
      registry.log.map(
        (e) => `${e.method} ${e.path.split('/')[3] === 'referrers' ? 'referrers' : e.path.split('/').slice(-2)[0]}`,
      ),
    ).toEqual(['HEAD manifests', 'GET referrers', 'GET manifests', 'GET blobs']);
    expect((await validate(honest.pinned)).allowed).toBe(true);
    expect((await validate(honest.tag)).allowed).toBe(true);
  });
});
