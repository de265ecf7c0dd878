import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/oci/manifest.js';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { MEDIA, blob, imageManifest } from '../helpers/registry/oci-fixtures.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushMultiArchImage } from '../helpers/registry/seed.js';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLE_LAYOUT = join(ROOT, 'examples', 'net-monitor-layout');
const EXAMPLE_CONFIG = join(ROOT, 'examples', 'config');
const IMAGE = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const SIGNATURE = 'application/vnd.cncf.notary.signature';

interface CopyJson {
  digest: string;
  copied: { kind: string; digest: string; size: number }[];
  skipped: { kind: string; digest: string }[];
  mounted: { kind: string; digest: string }[];
  referrers: { digest: string }[];
  bytes: number;
}

/** Content in and out with the CLI alone, as oras does it: copy, attach, list, discover, layouts. */
describe('copy between OCI layouts and registries', () => {
  let registry: DistributionRegistry;
  let dir: string;

  beforeAll(async () => {
    registry = await DistributionRegistry.start();
    dir = mkdtempSync(join(tmpdir(), 'portcullis-content-'));
  });
  afterAll(async () => {
    await registry?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('layout → registry → layout → layout with -r: the notation signature travels and verifies at every stop', async () => {
    const image = `${registry.host}/net-monitor:v1`;
    const up = await cli(['copy', '-r', '--from-oci-layout', `${EXAMPLE_LAYOUT}:v1`, image]);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain(`=> [registry] ${image}@${IMAGE}`);
    expect(up.stdout).toMatch(
      /2 manifest\(s\) and 3 blob\(s\) copied \(\d+(\.\d+)? (B|KiB) transferred\), 0 mounted, 0 already present, 1 referrer\(s\)/,
    );
    expect(
      (await cli(['verify', '--config-dir', EXAMPLE_CONFIG, `${registry.host}/net-monitor@${IMAGE}`])).status,
    ).toBe(0);

    const backup = join(dir, 'backup');
    const down = await cli(['copy', '-r', '--to-oci-layout', image, backup, '-o', 'json']);
    expect(down.status, down.stderr).toBe(0);
    const report = down.json<CopyJson>();
    expect(report.digest).toBe(IMAGE);
    expect(report.copied.filter((i) => i.kind === 'manifest').map((i) => i.digest)).toContain(IMAGE);
    expect(report.referrers).toHaveLength(1);
    expect(report.bytes).toBe(report.copied.filter((i) => i.kind === 'blob').reduce((n, i) => n + i.size, 0));
    const index = JSON.parse(readFileSync(join(backup, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    expect(index.manifests.find((m) => m.digest === IMAGE)?.annotations?.['org.opencontainers.image.ref.name']).toBe(
      'v1',
    );
    expect((await cli(['verify', '--config-dir', EXAMPLE_CONFIG, '--oci-layout', `${backup}@${IMAGE}`])).status).toBe(
      0,
    );

    const second = join(dir, 'second');
    const across = await cli(['copy', '-r', '--from-oci-layout', '--to-oci-layout', `${backup}:v1`, `${second}:kept`]);
    expect(across.status, across.stderr).toBe(0);
    expect((await cli(['verify', '--config-dir', EXAMPLE_CONFIG, '--oci-layout', `${second}:kept`])).status).toBe(0);
    expect((await cli(['list', '--oci-layout', `${second}:kept`])).stdout).toContain(`└── ${SIGNATURE}`);

    // Everything is in place the second time: skipped, nothing copied.
    const again = (
      await cli(['copy', '-r', '--from-oci-layout', `${EXAMPLE_LAYOUT}:v1`, image, '-o', 'json'])
    ).json<CopyJson>();
    expect(again.copied).toEqual([]);
    expect(again.skipped.map((i) => i.digest)).toContain(IMAGE);
  });

  it('refuses a tampered source layout blob instead of copying it', async () => {
    const bad = join(dir, 'tampered');
    cpSync(EXAMPLE_LAYOUT, bad, { recursive: true });
    const manifest = parseManifest(readFileSync(join(bad, 'blobs', 'sha256', IMAGE.slice(7))));
    const layer = manifest.layers[0]?.digest.slice(7) as string;
    const bytes = readFileSync(join(bad, 'blobs', 'sha256', layer));
    bytes[0] = (bytes[0] as number) ^ 1;
    cpSync(join(bad, 'blobs', 'sha256', layer), join(bad, 'orig'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(bad, 'blobs', 'sha256', layer), bytes);
    const r = await cli(['copy', '--from-oci-layout', `${bad}:v1`, `${registry.host}/tampered:v1`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_DIGEST_MISMATCH]');
  });
});

describe('copy options', () => {
  let source: ReferrersRegistry;
  let target: DistributionRegistry;
  let indexDigest: string;
  const platforms: Record<string, string> = {};

  beforeAll(async () => {
    source = await ReferrersRegistry.start();
    target = await DistributionRegistry.start();
    const client = new RegistryClient();
    const repo = { registry: source.host, repository: 'multi' };
    indexDigest = (await pushMultiArchImage(client, repo, 'v1')).digest;
    for (const p of parseManifest((await client.fetchManifest(repo, 'v1')).bytes).manifests) {
      const m = await client.fetchManifest(repo, p);
      const config = parseManifest(m.bytes).config?.digest as string;
      const arch = JSON.parse(
        Buffer.from(
          await client
            .fetchBlob(repo, { mediaType: MEDIA.imageConfig, digest: config, size: 0 }, undefined)
            .catch(async () => new Uint8Array()),
        ).toString() || '{}',
      ) as { architecture?: string };
      platforms[arch.architecture ?? p.digest] = p.digest;
    }
    await client.close();
  });
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
  });

  it('--platform copies one platform of an index, which takes the tag', async () => {
    const r = await cli([
      'copy',
      '--platform',
      'linux/arm64',
      `${source.host}/multi:v1`,
      `${target.host}/arm:v1`,
      '-o',
      'json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const report = r.json<CopyJson>();
    expect(report.digest).not.toBe(indexDigest);
    expect(report.copied.map((i) => i.kind).sort()).toEqual(['blob', 'blob', 'manifest']);
    const client = new RegistryClient();
    expect((await client.resolve({ registry: target.host, repository: 'arm', tag: 'v1' })).digest).toBe(report.digest);
    await client.close();
    const missing = await cli([
      'copy',
      '--platform',
      'linux/s390x',
      `${source.host}/multi:v1`,
      `${target.host}/arm:v2`,
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/has no linux\/s390x manifest \(it has linux\/amd64, linux\/arm64\)/);
    expect(
      (await cli(['copy', '--platform', 'linux', `${source.host}/multi:v1`, `${target.host}/arm:v2`])).stderr,
    ).toContain('[ERR_INPUT_INVALID]');
  });

  it('--concurrency must be a positive number, at most 64', async () => {
    for (const bad of ['0', '65', 'many']) {
      const r = await cli(['copy', '--concurrency', bad, `${source.host}/multi:v1`, `${target.host}/c:v1`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--concurrency');
    }
    const r = await cli(['copy', '--concurrency', '1', `${source.host}/multi:v1`, `${target.host}/c:v1`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 manifest(s) and 4 blob(s) copied');
  });

  it('--timeout ends a blob transfer that does not finish in time', async () => {
    const client = new RegistryClient();
    const big = blob(randomBytes(64 * 1024));
    const config = blob('{"architecture":"amd64","os":"linux"}');
    const repo = { registry: source.host, repository: 'slow' };
    await client.pushBlob(repo, big.bytes, big.descriptor(MEDIA.layer));
    await client.pushBlob(repo, config.bytes, config.descriptor(MEDIA.imageConfig));
    const m = imageManifest({ config: config.descriptor(MEDIA.imageConfig), layers: [big.descriptor(MEDIA.layer)] });
    await client.pushManifest(repo, 'v1', m.bytes, m.mediaType);
    await client.close();
    source.fail({ match: (method, path) => method === 'GET' && path.endsWith(`/blobs/${big.digest}`), delayMs: 5000 });
    try {
      const started = performance.now();
      const r = await cli(['copy', '--timeout', '1', `${source.host}/slow:v1`, `${target.host}/slow:v1`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('[ERR_REGISTRY_TIMEOUT]');
      expect(r.stderr).toContain(big.digest);
      expect(performance.now() - started).toBeLessThan(4500);
    } finally {
      source.clearFaults();
    }
  });

  it('draws byte-accurate progress bars on a terminal', async () => {
    const client = new RegistryClient();
    const layer = blob(randomBytes(3 * 1024 * 1024));
    const config = blob('{"architecture":"amd64","os":"linux","progress":true}');
    const repo = { registry: source.host, repository: 'big' };
    await client.pushBlob(repo, layer.bytes, layer.descriptor(MEDIA.layer));
    await client.pushBlob(repo, config.bytes, config.descriptor(MEDIA.imageConfig));
    const m = imageManifest({ config: config.descriptor(MEDIA.imageConfig), layers: [layer.descriptor(MEDIA.layer)] });
    await client.pushManifest(repo, 'v1', m.bytes, m.mediaType);
    await client.close();
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let drawn = '';
    tty.on('data', (chunk: Buffer) => void (drawn += chunk.toString('utf8')));
    const r = await cli(['copy', `${source.host}/big:v1`, `${target.host}/big:v1`], { tty });
    expect(r.status, r.stderr).toBe(0);
    expect(drawn).toContain(`✓ Copied  ${layer.digest.slice(0, 19)}…`);
    expect(drawn).toContain('3.00 MiB / 3.00 MiB');
    expect(r.stdout).toContain('(3.00 MiB transferred)');
  });
});

describe('attach, list, discover, and signing into a layout', () => {
  let registry: ReferrersRegistry;
  let tagSchema: DistributionRegistry;
  const signer = new ConfigDir();
  let dir: string;

  beforeAll(async () => {
    registry = await ReferrersRegistry.start();
    tagSchema = await DistributionRegistry.start();
    dir = mkdtempSync(join(tmpdir(), 'portcullis-attach-'));
    expect(
      (await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', '--default', 'acme']))
        .status,
    ).toBe(0);
    signer.policy({
      version: '1.0',
      trustPolicies: [
        {
          name: 'acme',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:acme'],
          trustedIdentities: ['*'],
        },
      ],
    });
    for (const r of [registry, tagSchema])
      expect((await cli(['copy', '--from-oci-layout', `${EXAMPLE_LAYOUT}:v1`, `${r.host}/app:v1`])).status).toBe(0);
  });
  afterAll(async () => {
    await registry?.stop();
    await tagSchema?.stop();
    signer.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['the Referrers API', () => registry.host],
    ['the referrers tag schema', () => tagSchema.host],
  ])(
    'attach pushes a referrer with its files and annotations (%s); list and discover show what refers to the image',
    async (_name, host) => {
      const image = `${host()}/app:v1`;
      expect((await cli(['list', image])).stdout).toBe(`${host()}/app@${IMAGE} has no associated signature\n`);
      const sbom = join(dir, `sbom-${host().replace(/\W/g, '')}.spdx.json`);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(sbom, '{"spdxVersion":"SPDX-2.3"}');
      const attached = await cli([
        'attach',
        '--artifact-type',
        'application/spdx+json',
        '-a',
        'org.example.scanner=trivy',
        image,
        `${sbom}:application/spdx+json`,
        '-o',
        'json',
      ]);
      expect(attached.status, attached.stderr).toBe(0);
      const out = attached.json<{
        digest: string;
        layers: { mediaType: string; annotations: Record<string, string> }[];
        subject: { digest: string };
      }>();
      expect(out.subject.digest).toBe(IMAGE);
      expect(out.layers[0]).toMatchObject({
        mediaType: 'application/spdx+json',
        annotations: { 'org.opencontainers.image.title': sbom.split('/').pop() },
      });
      const client = new RegistryClient();
      const pushed = parseManifest(
        (await client.fetchManifest({ registry: host(), repository: 'app' }, out.digest)).bytes,
      );
      await client.close();
      expect(pushed.artifactType).toBe('application/spdx+json');
      expect(pushed.annotations['org.example.scanner']).toBe('trivy');
      expect((await cli(['sign', '--config-dir', signer.path, `${host()}/app@${IMAGE}`])).status).toBe(0);
      const list = await cli(['list', image, '-o', 'json']);
      expect(list.json<{ signatures: { artifactType: string }[] }>().signatures.map((s) => s.artifactType)).toEqual([
        SIGNATURE,
      ]);
      const table = await cli(['discover', '-o', 'table', image]);
      expect(table.stdout).toMatch(/^Discovered 2 artifact\(s\) referencing sha256:/);
      expect(table.stdout).toContain(`${out.digest}   application/spdx+json`);
      const tree = await cli(['discover', image, '-o', 'json']);
      const graph = tree.json<{ referrers: { digest: string; annotations: Record<string, string> }[] }>();
      expect(graph.referrers.find((r) => r.digest === out.digest)?.annotations['org.example.scanner']).toBe('trivy');
    },
  );

  it('sign --oci-layout writes the signature into the layout, where verify, list, inspect and discover find it', async () => {
    const layout = join(dir, 'layout');
    cpSync(EXAMPLE_LAYOUT, layout, { recursive: true });
    const signed = await cli([
      'sign',
      '--config-dir',
      signer.path,
      '--oci-layout',
      `${layout}:v1`,
      '--signature-format',
      'cose',
    ]);
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`Successfully signed ${layout}@${IMAGE}`);
    const verified = await cli(['verify', '--config-dir', signer.path, '--oci-layout', `${layout}:v1`, '-o', 'json']);
    expect(verified.json()).toMatchObject({ verified: true });
    expect(
      (await cli(['list', '--oci-layout', `${layout}:v1`])).stdout
        .split('\n')
        .filter((l) => /sha256:[0-9a-f]{64}$/.test(l)),
    ).toHaveLength(3); // the root, notation's signature, ours
    const inspected = await cli(['inspect', '--oci-layout', `${layout}:v1`, '-o', 'json']);
    expect(
      inspected
        .json<{ signatures: { mediaType: string }[] }>()
        .signatures.map((s) => s.mediaType)
        .sort(),
    ).toEqual(['application/cose', 'application/jose+json']);
    const attached = await cli([
      'attach',
      '--oci-layout',
      '--artifact-type',
      'application/vnd.example.report',
      `${layout}:v1`,
      join(EXAMPLE_CONFIG, 'trustpolicy.oci.json'),
      '-o',
      'digest',
    ]);
    expect(attached.status, attached.stderr).toBe(0);
    expect((await cli(['discover', '--oci-layout', `${layout}:v1`])).stdout).toContain(
      `application/vnd.example.report\n    └── ${attached.stdout.trim()}`,
    );
  });
});
