import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/oci/descriptor.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage, pushReferrer } from '../helpers/registry/seed.js';

const SBOM = 'application/spdx+json';
const SIGNATURE = 'application/vnd.cncf.notary.signature';

/**
 * The Notary v2 demo, with the portcullis CLI alone, against real registries: a test key,
 * sign net-monitor:v1, the signature in the referrer tree, verification failing until the
 * certificate is trusted, passing after, an SBOM and the SBOM's own signature, and promotion of
 * the whole graph to another registry where it still verifies. Run once against Debian's
 * docker-registry (no Referrers API: the tag schema) and once against a registry with the API.
 */
describe.each([
  ['distribution 2.8 (referrers tag schema)', 'distribution'],
  ['a registry with the OCI 1.1 Referrers API', 'referrers-api'],
] as const)('the Notary v2 demo against %s', (_name, kind) => {
  let registry: DistributionRegistry | ReferrersRegistry;
  let target: DistributionRegistry | ReferrersRegistry;
  const signer = new ConfigDir();
  const verifier = new ConfigDir();
  let image: string;
  let imageDigest: string;
  let imageDescriptor: Descriptor;
  let sbomRef: string;

  beforeAll(async () => {
    registry = kind === 'distribution' ? await DistributionRegistry.start() : await ReferrersRegistry.start();
    target = await DistributionRegistry.start();
    image = `${registry.host}/net-monitor:v1`;
    const client = new RegistryClient();
    const pushed = await pushImage(client, { registry: registry.host, repository: 'net-monitor' }, 'v1');
    imageDigest = pushed.digest;
    imageDescriptor = pushed;
    await client.close();
    verifier.policy({
      version: '1.0',
      trustPolicies: [
        {
          name: 'wabbit-networks-images',
          registryScopes: [`${registry.host}/net-monitor`, `${target.host}/net-monitor`],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:wabbit-networks.io'],
          trustedIdentities: ['*'],
        },
      ],
    });
  });

  afterAll(async () => {
    await registry?.stop();
    await target?.stop();
    signer.cleanup();
    verifier.cleanup();
  });

  it('generates a test key and certificate', async () => {
    const r = await cli(['cert', 'generate-test', '--config-dir', signer.path, '--default', 'wabbit-networks.io']);
    expect(r.status).toBe(0);
  });

  it('finds no signature before signing', async () => {
    const r = await cli(['verify', '--config-dir', verifier.path, image, '--output', 'json']);
    expect(r.status).toBe(1);
    expect(r.json()).toMatchObject({ verified: false, code: 'ERR_NO_SIGNATURE', digest: imageDigest });
  });

  it('signs net-monitor:v1 by digest and prints the digest', async () => {
    const r = await cli(['sign', '--config-dir', signer.path, image]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Successfully signed ${registry.host}/net-monitor@${imageDigest}`);
    expect(r.stderr).toContain(`resolved to ${imageDigest}`);
  });

  it('shows the signature in the referrer tree', async () => {
    const r = await cli(['discover', image]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`${registry.host}/net-monitor:v1@${imageDigest}`);
    expect(r.stdout).toContain(`└── ${SIGNATURE}`);
  });

  it('fails verification while the signer is not trusted', async () => {
    // A store of that name that holds someone else's certificate.
    verifier.store('ca', 'wabbit-networks.io', [
      join(import.meta.dirname, '../../examples/config/truststore/x509/ca/e2e/e2e.crt'),
    ]);
    const r = await cli(['verify', '--config-dir', verifier.path, image, '--output', 'json']);
    expect(r.status).toBe(1);
    expect(r.json()).toMatchObject({
      verified: false,
      failedCheck: 'authenticity',
      code: 'ERR_CHAIN_UNTRUSTED',
      digest: imageDigest,
    });
  });

  it('passes once the certificate is added to the trust store', async () => {
    const add = await cli([
      'cert',
      'add',
      '--config-dir',
      verifier.path,
      '--type',
      'ca',
      '--store',
      'wabbit-networks.io',
      join(signer.path, 'localkeys/wabbit-networks.io.crt'),
    ]);
    expect(add.status).toBe(0);
    const r = await cli(['verify', '--config-dir', verifier.path, image, '--output', 'json']);
    expect(r.status).toBe(0);
    expect(r.json()).toMatchObject({ verified: true, digest: imageDigest, failedCheck: null });
  });

  it('signs an SBOM of the image; the SBOM signature shows under the SBOM', async () => {
    const client = new RegistryClient();
    const sbom = await pushReferrer(
      client,
      { registry: registry.host, repository: 'net-monitor' },
      imageDescriptor,
      SBOM,
      '{"spdxVersion":"SPDX-2.3"}',
    );
    await client.close();
    sbomRef = `${registry.host}/net-monitor@${sbom.digest}`;
    expect((await cli(['sign', '--config-dir', signer.path, '--signature-format', 'cose', sbomRef])).status).toBe(0);
    const tree = await cli(['discover', image, '--output', 'json']);
    const graph = tree.json<{
      referrers: { artifactType: string; digest: string; referrers: { artifactType: string }[] }[];
    }>();
    expect(graph.referrers.map((r) => r.artifactType).sort()).toEqual([SBOM, SIGNATURE]);
    const sbomNode = graph.referrers.find((r) => r.artifactType === SBOM);
    expect(sbomNode?.referrers.map((r) => r.artifactType)).toEqual([SIGNATURE]);
    const text = await cli(['discover', image]);
    expect(text.stdout).toMatch(new RegExp(`${SBOM.replace('+', '\\+')}\\n.*${sbom.digest}\\n.*${SIGNATURE}`));
  });

  it('promotes the image with its signatures, SBOM and SBOM signature to another registry, where it verifies', async () => {
    const dest = `${target.host}/net-monitor:v1`;
    const r = await cli(['copy', '-r', image, dest]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('referrer(s)');
    const verified = await cli(['verify', '--config-dir', verifier.path, dest, '--output', 'json']);
    expect(verified.json()).toMatchObject({ verified: true, digest: imageDigest });
    const sbomDigest = parseReference(sbomRef).digest as string;
    const sbomVerified = await cli([
      'verify',
      '--config-dir',
      verifier.path,
      `${target.host}/net-monitor@${sbomDigest}`,
      '--output',
      'json',
    ]);
    expect(sbomVerified.json()).toMatchObject({ verified: true });
    // The promoted image with its signed SBOM passes the SBOM requirement; the SBOM's own signature decides it.
    const required = await cli([
      'verify',
      '--config-dir',
      verifier.path,
      '--require-artifact',
      SBOM,
      dest,
      '--output',
      'json',
    ]);
    expect(required.json()).toMatchObject({
      verified: true,
      requiredArtifacts: [{ artifactType: SBOM, passed: true, artifact: sbomDigest }],
    });
    const other = await cli([
      'verify',
      '--config-dir',
      verifier.path,
      '--require-artifact',
      'application/vnd.cyclonedx+json',
      dest,
      '--output',
      'json',
    ]);
    expect(other.json()).toMatchObject({ verified: false, code: 'ERR_ATTESTATION_MISSING' });
    const src = (await cli(['discover', image, '--output', 'json'])).json<GraphNode>();
    const dst = (await cli(['discover', dest, '--output', 'json'])).json<GraphNode>();
    expect(strip(dst)).toEqual(strip(src));
    // A second copy finds everything in place.
    const again = await cli(['copy', '-r', image, dest]);
    expect(again.stdout, again.stdout).toMatch(/0 manifest\(s\) and 0 blob\(s\) copied/);
  });

  it('inspect lists the signature with its attributes and chain', async () => {
    const r = await cli(['inspect', image, '--output', 'json']);
    const sig = r.json<{ signatures: { signingScheme: string; certificates: { subject: string }[] }[] }>()
      .signatures[0];
    expect(sig?.signingScheme).toBe('notary.x509');
    expect(sig?.certificates[0]?.subject).toBe('CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US');
  });
});

// The graph without registry-specific fields (the root reference names the registry).
interface GraphNode {
  digest: string;
  artifactType?: string | null;
  referrers: GraphNode[];
}
function strip(graph: GraphNode): GraphNode {
  const node = (n: GraphNode): GraphNode => ({
    digest: n.digest,
    artifactType: n.artifactType ?? null,
    referrers: n.referrers.map(node).sort((a, b) => a.digest.localeCompare(b.digest)),
  });
  return node(graph);
}
