import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { KubeCluster, REPO_ROOT } from '../helpers/kube/cluster.js';
import { fixtureText } from '../helpers/migrate.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { pushImage } from '../helpers/registry/seed.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

/**
 * `portcullis import` as its user runs it: Ratify's and Kyverno's resources (written from their
 * documentation) converted, the result accepted by a real API server with the portcullis.dev
 * CRDs (server-side apply, read back), and a converted policy deciding like the original would
 * against a real registry: the image signed by the trusted certificate admitted, an unsigned
 * one and one signed by another key denied, images the original did not cover left alone.
 */

const FIXTURES = [
  'ratify-v1.yaml',
  'ratify-v1-akv.yaml',
  'ratify-v2.yaml',
  'kyverno-policies.yaml',
  'kyverno-ivpol.yaml',
];
const dir = mkdtempSync(join(tmpdir(), 'portcullis-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeFixture(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, fixtureText(name));
  return file;
}

async function importFile(source: 'ratify' | 'kyverno', file: string, extra: string[] = []) {
  const r = await cli(['import', source, ...extra, file]);
  expect(r.status, r.stderr).toBeLessThan(2);
  return r;
}

describe('import: the converted manifests on kube-apiserver 1.20', () => {
  let cluster: KubeCluster;

  beforeAll(async () => {
    cluster = await KubeCluster.start();
    await cluster.kubectl(['apply', '-k', join(REPO_ROOT, 'deploy', 'crds')]);
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd',
      '-l',
      'app.kubernetes.io/part-of=portcullis',
    ]);
    for (const ns of ['team-a', 'team-b']) await cluster.kubectl(['create', 'namespace', ns]);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it.each(FIXTURES)('%s: accepted by server-side apply and read back unchanged', async (name) => {
    const source = name.startsWith('ratify') ? 'ratify' : 'kyverno';
    const r = await importFile(source, writeFixture(name));
    const dry = await cluster.kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: r.stdout });
    expect(dry.code).toBe(0);
    await cluster.kubectl(['apply', '--server-side', '--field-manager=portcullis-import', '-f', '-'], {
      input: r.stdout,
    });
    for (const doc of parseAllDocuments(r.stdout)) {
      const written = doc.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec: unknown };
      const read = JSON.parse(
        (
          await cluster.kubectl([
            'get',
            `${written.kind.toLowerCase()}.portcullis.dev`,
            written.metadata.name,
            ...(written.metadata.namespace === undefined ? [] : ['-n', written.metadata.namespace]),
            '-o',
            'json',
          ])
        ).stdout,
      ) as { spec: unknown };
      expect(read.spec, `${written.kind} ${written.metadata.name}`).toEqual(written.spec);
    }
  });
});

/** An AdmissionReview of a pod with one container, as the API server sends it. */
function review(namespace: string, image: string, uid: string) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      name: 'demo',
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'admin', groups: ['system:authenticated'] },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'demo', namespace },
        spec: { containers: [{ name: 'app', image }] },
      },
      oldObject: null,
      dryRun: false,
    },
  };
}

describe('import: a converted policy decides like the original against a real registry', () => {
  let registry: DistributionRegistry;
  const trusted = new ConfigDir();
  const other = new ConfigDir();
  let certificate: string;
  let signed: string;
  let unsigned: string;
  let foreign: string;
  let elsewhere: string;
  let uid = 0;

  beforeAll(async () => {
    registry = await DistributionRegistry.start();
    const client = new RegistryClient();
    const repo = { registry: registry.host, repository: 'app' };
    await pushImage(client, repo, 'signed');
    await pushImage(client, repo, 'unsigned');
    await pushImage(client, repo, 'foreign');
    await pushImage(client, { registry: registry.host, repository: 'elsewhere' }, 'v1');
    await client.close();
    signed = `${registry.host}/app:signed`;
    unsigned = `${registry.host}/app:unsigned`;
    foreign = `${registry.host}/app:foreign`;
    elsewhere = `${registry.host}/elsewhere:v1`;
    for (const [config, name] of [
      [trusted, 'wabbit-networks.io'],
      [other, 'other-signer.io'],
    ] as const) {
      expect((await cli(['cert', 'generate-test', '--config-dir', config.path, '--default', name])).status).toBe(0);
    }
    expect((await cli(['sign', '--config-dir', trusted.path, signed])).status).toBe(0);
    expect((await cli(['sign', '--config-dir', other.path, foreign])).status).toBe(0);
    certificate = readFileSync(join(trusted.path, 'localkeys', 'wabbit-networks.io.crt'), 'utf8');
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    trusted.cleanup();
    other.cleanup();
  });

  async function serve(manifests: string): Promise<ServeProcess> {
    const policies = join(dir, `policies-${uid++}`);
    mkdirSync(policies);
    writeFileSync(join(policies, 'imported.yaml'), manifests);
    return startServeProcess({
      policies,
      config: {
        webhook: { timeoutSeconds: 10, marginMilliseconds: 1000, shutdownDelaySeconds: 0, shutdownTimeoutSeconds: 3 },
        verification: { revocation: 'offline' },
        logging: { level: 'silent' },
      },
    });
  }

  async function allowed(server: ServeProcess, namespace: string, image: string): Promise<boolean> {
    const r = await server.post('/validate?timeout=10s', review(namespace, image, `u-${uid++}`));
    expect(r.status).toBe(200);
    return r.body.response.allowed as boolean;
  }

  it("Ratify: a notation Verifier trusting an inline KeyManagementProvider's certificate", async () => {
    const input = join(dir, 'ratify-e2e.yaml');
    writeFileSync(
      input,
      [
        {
          apiVersion: 'config.ratify.deislabs.io/v1beta1',
          kind: 'KeyManagementProvider',
          metadata: { name: 'wabbit' },
          spec: { type: 'inline', parameters: { contentType: 'certificate', value: certificate } },
        },
        {
          apiVersion: 'config.ratify.deislabs.io/v1beta1',
          kind: 'Verifier',
          metadata: { name: 'verifier-notation' },
          spec: {
            name: 'notation',
            artifactTypes: 'application/vnd.cncf.notary.signature',
            parameters: {
              verificationCertStores: { ca: { 'ca-certs': ['wabbit'] } },
              trustPolicyDoc: {
                version: '1.0',
                trustPolicies: [
                  {
                    name: 'default',
                    registryScopes: ['*'],
                    signatureVerification: { level: 'strict' },
                    trustStores: ['ca:ca-certs'],
                    trustedIdentities: ['*'],
                  },
                ],
              },
            },
          },
        },
      ]
        .map((o) => stringify(o))
        .join('---\n'),
    );
    const r = await importFile('ratify', input);
    expect(r.status, r.stderr).toBe(0);
    const server = await serve(r.stdout);
    try {
      expect(await allowed(server, 'default', signed)).toBe(true);
      expect(await allowed(server, 'default', unsigned)).toBe(false);
      expect(await allowed(server, 'default', foreign)).toBe(false);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('Kyverno: a ClusterPolicy verifyImages rule of type Notary for one repository in one namespace', async () => {
    const input = join(dir, 'kyverno-e2e.yaml');
    writeFileSync(
      input,
      stringify({
        apiVersion: 'kyverno.io/v1',
        kind: 'ClusterPolicy',
        metadata: { name: 'check-image-notary' },
        spec: {
          validationFailureAction: 'Enforce',
          rules: [
            {
              name: 'verify-signature-notary',
              match: { any: [{ resources: { kinds: ['Pod'], namespaces: ['secured'] } }] },
              verifyImages: [
                {
                  type: 'Notary',
                  imageReferences: [`${registry.host}/app:*`],
                  attestors: [{ count: 1, entries: [{ certificates: { cert: certificate } }] }],
                },
              ],
            },
          ],
        },
      }),
    );
    const r = await importFile('kyverno', input);
    const server = await serve(r.stdout);
    try {
      expect(await allowed(server, 'secured', signed)).toBe(true);
      expect(await allowed(server, 'secured', unsigned)).toBe(false);
      expect(await allowed(server, 'secured', foreign)).toBe(false);
      // What the rule did not cover: another repository, another namespace.
      expect(await allowed(server, 'secured', elsewhere)).toBe(true);
      expect(await allowed(server, 'other', unsigned)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
