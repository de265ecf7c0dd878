import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { freePort } from '../helpers/registry/free-port.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { EMPTY, MEDIA, blob, imageManifest, manifest } from '../helpers/registry/oci-fixtures.js';
import { pushImage } from '../helpers/registry/seed.js';

/** A signer and a verifier configuration that trusts it, shared by the tests below. */
function keyPair(): { signer: ConfigDir; verifier: ConfigDir; setUp: () => Promise<void> } {
  const signer = new ConfigDir();
  const verifier = new ConfigDir().policy({
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
  });
  return {
    signer,
    verifier,
    setUp: async () => {
      expect(
        (await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', 'acme'])).status,
      ).toBe(0);
      verifier.store('ca', 'acme', [join(signer.path, 'localkeys/acme.crt')]);
    },
  };
}

describe('registry access from the CLI', () => {
  const { signer, verifier, setUp } = keyPair();
  const dockerDir = mkdtempSync(join(tmpdir(), 'portcullis-docker-'));
  const env = { DOCKER_CONFIG: dockerDir };
  beforeAll(setUp);
  afterAll(() => {
    signer.cleanup();
    verifier.cleanup();
    rmSync(dockerDir, { recursive: true, force: true });
  });

  describe('over TLS with a CA made in the test', () => {
    let registry: DistributionRegistry;
    beforeAll(async () => {
      registry = await DistributionRegistry.start({ tls: true });
      const client = new RegistryClient({ plainHttp: false, tls: () => ({ ca: registry.caPem as string }) });
      await pushImage(client, { registry: registry.host, repository: 'tls/app' }, 'v1');
      await client.close();
    });
    afterAll(async () => registry?.stop());

    it('signs and verifies with --registry-ca', async () => {
      const ref = `${registry.host}/tls/app:v1`;
      expect(
        (await cli(['sign', '--config-dir', signer.path, '--registry-ca', registry.caFile as string, ref])).status,
      ).toBe(0);
      const r = await cli([
        'verify',
        '--config-dir',
        verifier.path,
        '--registry-ca',
        registry.caFile as string,
        ref,
        '--output',
        'json',
      ]);
      expect(r.json()).toMatchObject({ verified: true });
    });

    it('refuses a registry certificate it cannot verify, naming the registry', async () => {
      const r = await cli([
        'verify',
        '--config-dir',
        verifier.path,
        `${registry.host}/tls/app:v1`,
        '--registry-ca',
        signer.path + '/localkeys/acme.crt',
      ]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('[ERR_REGISTRY_TLS]');
      expect(r.stderr).toContain(registry.host);
      expect(r.stderr).toMatch(/certificate|TLS/i);
    });
  });

  describe.each([
    ['htpasswd basic auth', 'basic'],
    ['bearer tokens from a token server', 'token'],
  ] as const)('with %s', (_name, auth) => {
    let registry: DistributionRegistry;
    beforeAll(async () => {
      registry = await DistributionRegistry.start({ auth });
      const client = new RegistryClient({
        credentials: { get: async () => ({ username: 'alice', password: 'wonderland' }) },
      });
      await pushImage(client, { registry: registry.host, repository: 'private/app' }, 'v1');
      await client.close();
    });
    afterAll(async () => registry?.stop());

    it('fails with 401 and a clear error without credentials', async () => {
      const r = await cli(['verify', '--config-dir', verifier.path, `${registry.host}/private/app:v1`], { env });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('[ERR_REGISTRY_UNAUTHORIZED]');
      expect(r.stderr).toContain(`${registry.host}`);
      expect(r.stderr).toContain('private/app');
    });

    it('fails with wrong credentials', async () => {
      const r = await cli(
        ['verify', '--config-dir', verifier.path, '-u', 'alice', '-p', 'wrong', `${registry.host}/private/app:v1`],
        { env },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('[ERR_REGISTRY_UNAUTHORIZED]');
    });

    it('signs with -u/-p and verifies with credentials stored by login', async () => {
      const ref = `${registry.host}/private/app:v1`;
      expect(
        (await cli(['sign', '--config-dir', signer.path, '-u', 'alice', '-p', 'wonderland', ref], { env })).status,
      ).toBe(0);
      const login = await cli(['login', registry.host, '-u', 'alice', '--password-stdin'], {
        env,
        stdin: 'wonderland\n',
      });
      expect(login.status).toBe(0);
      const r = await cli(['verify', '--config-dir', verifier.path, ref, '--output', 'json'], { env });
      expect(r.json()).toMatchObject({ verified: true });
    });
  });

  describe('failure paths', () => {
    let registry: ReferrersRegistry;
    let ref: string;
    beforeAll(async () => {
      registry = await ReferrersRegistry.start();
      const client = new RegistryClient();
      await pushImage(client, { registry: registry.host, repository: 'app' }, 'v1');
      await client.close();
      ref = `${registry.host}/app:v1`;
      expect((await cli(['sign', '--config-dir', signer.path, ref])).status).toBe(0);
    });
    afterAll(async () => registry?.stop());

    // A digest is resolved as a tag is (the HEAD gives the media type and size the payload must match).
    it('verifying a digest-pinned image costs 4 registry round trips, as a tag does', async () => {
      const digest = (await cli(['verify', '--config-dir', verifier.path, ref, '--output', 'json'])).json<{
        digest: string;
      }>().digest;
      registry.resetLog();
      const pinned = await cli([
        'verify',
        '--config-dir',
        verifier.path,
        `${registry.host}/app@${digest}`,
        '--output',
        'json',
      ]);
      expect(pinned.json()).toMatchObject({ verified: true, digest });
      expect(registry.log.map((e) => `${e.method} ${e.path.replace(/sha256:[0-9a-f]+/g, 'D')}`)).toEqual([
        'HEAD /v2/app/manifests/D',
        'GET /v2/app/referrers/D',
        'GET /v2/app/manifests/D',
        'GET /v2/app/blobs/D',
      ]);
      registry.resetLog();
      await cli(['verify', '--config-dir', verifier.path, ref]);
      expect(registry.log.map((e) => e.method)).toEqual(['HEAD', 'GET', 'GET', 'GET']);
    });

    it('a digest-pinned signature over another artifact is still rejected', async () => {
      const client = new RegistryClient();
      const other = await pushImage(client, { registry: registry.host, repository: 'app' }, 'other');
      await client.close();
      // Signed: app:v1. Asked: the digest of app:other, which has no signature of its own.
      const r = await cli([
        'verify',
        '--config-dir',
        verifier.path,
        `${registry.host}/app@${other.digest}`,
        '--output',
        'json',
      ]);
      expect(r.json()).toMatchObject({ verified: false, code: 'ERR_NO_SIGNATURE', digest: other.digest });
    });

    it('registry down: unreachable, naming the registry', async () => {
      const port = await freePort();
      const r = await cli(['verify', '--config-dir', verifier.path, `127.0.0.1:${port}/app:v1`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('[ERR_REGISTRY_UNREACHABLE]');
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
    });

    it('image not found: names the image', async () => {
      const r = await cli(['verify', '--config-dir', verifier.path, `${registry.host}/app:nope`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('[ERR_REGISTRY_NOT_FOUND]');
      expect(r.stderr).toContain('app');
      expect(r.stderr).toContain('nope');
    });

    it('a registry serving more manifest bytes than the descriptor says fails that signature', async () => {
      registry.fail({
        match: (m, p) => m === 'GET' && p.includes('/manifests/sha256:'),
        body: new Uint8Array(5 * 1024 * 1024).fill(32),
      });
      try {
        const r = await cli(['verify', '--config-dir', verifier.path, ref, '--output', 'json']);
        expect(r.json(), r.stdout).toMatchObject({
          verified: false,
          failedCheck: 'integrity',
          code: 'ERR_DIGEST_MISMATCH',
        });
        expect(r.status).toBe(1);
        expect(r.json<{ message: string }>().message).toContain(registry.host);
      } finally {
        registry.clearFaults();
      }
    });

    it('a signature manifest over the byte cap is never downloaded and fails that signature', async () => {
      // The pushing client allows big manifests; the verifier keeps the 4 MiB default.
      const client = new RegistryClient({ maxManifestBytes: 8 * 1024 * 1024 });
      const repo = { registry: registry.host, repository: 'big' };
      const subject = await pushImage(client, repo, 'v1');
      const layer = blob('not an envelope');
      await client.pushBlob(repo, EMPTY.bytes, EMPTY.descriptor(MEDIA.empty));
      await client.pushBlob(repo, layer.bytes, layer.descriptor(MEDIA.jws));
      // Padding in a field the referrers listing does not copy: only the manifest itself is big.
      const huge = manifest({
        ...imageManifest({
          artifactType: MEDIA.notarySignature,
          config: EMPTY.descriptor(MEDIA.empty),
          layers: [layer.descriptor(MEDIA.jws)],
          subject,
        }).json,
        padding: 'x'.repeat(5 * 1024 * 1024),
      });
      await client.pushManifest(repo, huge.digest, huge.bytes, huge.mediaType);
      await client.close();
      registry.resetLog();
      const r = await cli(['verify', '--config-dir', verifier.path, `${registry.host}/big:v1`, '--output', 'json']);
      expect(r.json(), r.stdout).toMatchObject({ verified: false, failedCheck: 'integrity', code: 'ERR_SIZE_LIMIT' });
      expect(r.json<{ message: string }>().message).toContain(`registry ${registry.host}, repository big`);
      expect(r.status).toBe(1);
      expect(registry.log.some((e) => e.path.endsWith(huge.digest))).toBe(false);
    });

    it('an envelope blob whose content does not match its digest fails that signature', async () => {
      registry.fail({
        match: (m, p) => m === 'GET' && p.includes('/blobs/'),
        body: new TextEncoder().encode('{"not":"the envelope"}'),
      });
      try {
        const r = await cli(['verify', '--config-dir', verifier.path, ref, '--output', 'json']);
        expect(r.status).toBe(1);
        expect(r.json()).toMatchObject({ verified: false, failedCheck: 'integrity', code: 'ERR_DIGEST_MISMATCH' });
      } finally {
        registry.clearFaults();
      }
    });

    it('a slow registry past the deadline: timeout, naming the registry', async () => {
      registry.fail({ delayMs: 3000 });
      try {
        const started = Date.now();
        const r = await cli(['verify', '--config-dir', verifier.path, '--timeout', '1', ref]);
        expect(Date.now() - started).toBeLessThan(2500);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('[ERR_REGISTRY_TIMEOUT]');
        expect(r.stderr).toContain(registry.host);
      } finally {
        registry.clearFaults();
      }
    });

    it('429 with Retry-After is retried within the deadline', async () => {
      registry.fail({ status: 429, retryAfter: '1', times: 1 });
      try {
        const r = await cli(['verify', '--config-dir', verifier.path, ref, '--output', 'json']);
        expect(r.json()).toMatchObject({ verified: true });
      } finally {
        registry.clearFaults();
      }
    });
  });
});
