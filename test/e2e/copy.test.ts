import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { parseManifest } from '../../src/oci/manifest.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushMultiArchImage } from '../helpers/registry/seed.js';

/** `portcullis copy -r` of a multi-platform image with a signature on its index. */
describe('portcullis copy', () => {
  const signer = new ConfigDir();
  let source: DistributionRegistry;
  let target: ReferrersRegistry;
  let image: string;
  let indexDigest: string;

  beforeAll(async () => {
    source = await DistributionRegistry.start();
    target = await ReferrersRegistry.start();
    const client = new RegistryClient();
    indexDigest = (await pushMultiArchImage(client, { registry: source.host, repository: 'multi' }, 'v1')).digest;
    await client.close();
    image = `${source.host}/multi:v1`;
    expect(
      (await cli(['cert', 'generate-test', '--config-dir', signer.path, '--key-type', 'ec', '--default', 'k'])).status,
    ).toBe(0);
    expect((await cli(['sign', '--config-dir', signer.path, image])).status).toBe(0);
  });
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
    signer.cleanup();
  });

  it('copies the index, every platform manifest and blob, and the signature to another registry', async () => {
    const r = await cli(['copy', '-r', image, `${target.host}/promoted/multi:v1`]);
    expect(r.status, r.stderr).toBe(0);
    // index + 2 platform manifests + 1 signature manifest; 2×(config+layer) + empty config + envelope
    expect(r.stdout).toContain('4 manifest(s) and 6 blob(s) copied');
    const client = new RegistryClient();
    const copied = await client.fetchManifest({ registry: target.host, repository: 'promoted/multi' }, 'v1');
    expect(copied.descriptor.digest).toBe(indexDigest);
    for (const platform of parseManifest(copied.bytes).manifests) {
      const m = await client.fetchManifest({ registry: target.host, repository: 'promoted/multi' }, platform);
      expect(m.descriptor.digest).toBe(platform.digest);
    }
    const signatures = await client.listReferrers(
      { registry: target.host, repository: 'promoted/multi' },
      { digest: indexDigest },
      { artifactType: 'application/vnd.cncf.notary.signature' },
    );
    expect(signatures).toHaveLength(1);
    await client.close();
  });

  it('within one registry mounts blobs instead of transferring them', async () => {
    const r = await cli(['copy', '-r', image, `${source.host}/mirror/multi:v1`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(0 B transferred\), 6 mounted/);
  });
});
