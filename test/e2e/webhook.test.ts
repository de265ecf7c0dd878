import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pod, workload } from '../../src/http/testing/reviews.js';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { freePort } from '../helpers/registry/free-port.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage, pushLayout } from '../helpers/registry/seed.js';
import { TestWebhook } from '../helpers/webhook.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');

/**
 * `portcullis serve` end to end over real HTTPS (development CA) against a real registry, with
 * the example policies: the cluster baseline trusts the example signer in namespaces labelled
 * portcullis.dev/enforce=true; `secured` adds a stricter TrustPolicy; `not-secured` has none.
 */
describe('the webhook over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-webhook-'));
  const untrustedSigner = new ConfigDir();
  let registry: ReferrersRegistry;
  let webhook: TestWebhook;
  let signed: string;
  let unsigned: string;
  let untrusted: string;
  let privateRegistry: ReferrersRegistry;
  let privateImage: string;

  beforeAll(async () => {
    registry = await ReferrersRegistry.start();
    const client = new RegistryClient();
    // notation's signed example image, and two more of our own
    await pushLayout(
      client,
      { registry: registry.host, repository: 'net-monitor' },
      join(EXAMPLES, 'net-monitor-layout'),
    );
    await pushImage(client, { registry: registry.host, repository: 'nginx' }, 'unsigned');
    await pushImage(client, { registry: registry.host, repository: 'other' }, 'v1');
    await client.close();
    privateRegistry = await ReferrersRegistry.start({ basicAuth: { alice: 'wonderland' } });
    const privateClient = new RegistryClient({
      credentials: { get: async () => ({ username: 'alice', password: 'wonderland' }) },
    });
    await pushLayout(
      privateClient,
      { registry: privateRegistry.host, repository: 'net-monitor' },
      join(EXAMPLES, 'net-monitor-layout'),
    );
    await privateClient.close();
    privateImage = `${privateRegistry.host}/net-monitor:v1`;
    signed = `${registry.host}/net-monitor:v1`;
    unsigned = `${registry.host}/nginx:unsigned`;
    untrusted = `${registry.host}/other:v1`;
    expect(
      (
        await cli([
          'cert',
          'generate-test',
          '--config-dir',
          untrustedSigner.path,
          '--key-type',
          'ec',
          '--default',
          'mallory',
        ])
      ).status,
    ).toBe(0);
    expect((await cli(['sign', '--config-dir', untrustedSigner.path, untrusted])).status).toBe(0);

    // The example policies, plus a namespace in warn mode and one that tries to loosen the baseline.
    const policies = join(dir, 'policies');
    cpSync(join(EXAMPLES, 'policies'), policies, { recursive: true });
    // The pull secret for the private registry, as `kubectl create secret docker-registry` makes it.
    const dockerconfig = JSON.stringify({
      auths: { [privateRegistry.host]: { auth: Buffer.from('alice:wonderland').toString('base64') } },
    });
    writeFileSync(
      join(policies, '80-pull-secret.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata: { name: regcred, namespace: secured }\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: ${Buffer.from(dockerconfig).toString('base64')}\n`,
    );
    writeFileSync(
      join(policies, '90-test.yaml'),
      `apiVersion: v1
kind: Namespace
metadata:
  name: warned
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustPolicy
metadata: { name: audit-only, namespace: warned }
spec:
  enforcementAction: warn
  version: "1.0"
  trustPolicies:
    - name: all
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:e2e"]
      trustedIdentities: ["*"]
---
apiVersion: v1
kind: Namespace
metadata:
  name: loosened
  labels: { portcullis.dev/enforce: "true" }
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustPolicy
metadata: { name: skip-everything, namespace: loosened }
spec:
  version: "1.0"
  trustPolicies:
    - name: skip
      registryScopes: ["*"]
      signatureVerification: { level: skip }
`,
    );
    webhook = await TestWebhook.start({ policies, devCertDir: join(dir, 'cert'), webhook: { timeoutSeconds: 3 } });
  });

  afterAll(async () => {
    await webhook?.stop();
    await registry?.stop();
    await privateRegistry?.stop();
    untrustedSigner.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function review(object: unknown, namespace: string, extra: Record<string, unknown> = {}) {
    const started = Date.now();
    const r = await webhook.admit(object, namespace, { timeout: '3s', extra });
    return { ms: Date.now() - started, ...r };
  }

  it('is ready once the example policies are loaded', async () => {
    const res = await request(`${webhook.url}/readyz`, { dispatcher: webhook.agent });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('allows a pod whose image is signed by the trusted signer', async () => {
    const r = await review(pod({ containers: [['app', signed]] }, 'secured'), 'secured');
    expect(r).toMatchObject({ httpStatus: 200, allowed: true });
  });

  it('denies an unsigned image with a message naming container, image, digest, policy and cause', async () => {
    const r = await review(pod({ containers: [['web', unsigned]] }, 'secured'), 'secured');
    expect(r.allowed).toBe(false);
    expect(r.status?.code).toBe(403);
    expect(r.status?.message).toContain('container "web"');
    expect(r.status?.message).toContain(unsigned);
    expect(r.status?.message).toMatch(/sha256:[0-9a-f]{64}/);
    expect(r.status?.message).toContain('ClusterTrustPolicy baseline');
    expect(r.status?.message).toContain('ERR_NO_SIGNATURE');
  });

  it('denies an image signed by an untrusted signer', async () => {
    const r = await review(pod({ containers: [['app', untrusted]] }, 'secured'), 'secured');
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('ERR_CHAIN_UNTRUSTED');
  });

  it('checks the pod templates of workloads', async () => {
    const r = await review(workload('Deployment', 'apps/v1', { containers: [['web', unsigned]] }), 'secured', {
      kind: 'Deployment',
      group: 'apps',
    });
    expect(r.allowed).toBe(false);
  });

  it('does not enforce a namespace no policy covers', async () => {
    const r = await review(pod({ containers: [['web', unsigned]] }, 'not-secured'), 'not-secured');
    expect(r.allowed).toBe(true);
  });

  it('warn mode allows, with a warning', async () => {
    const r = await review(pod({ containers: [['web', unsigned]] }, 'warned'), 'warned');
    expect(r.allowed).toBe(true);
    expect(r.warnings?.join('\n')).toContain('TrustPolicy warned/audit-only');
  });

  it('a namespace policy cannot loosen the cluster policy', async () => {
    const r = await review(pod({ containers: [['web', unsigned]] }, 'loosened'), 'loosened');
    expect(r.allowed).toBe(false);
    expect(r.status?.message).toContain('ClusterTrustPolicy baseline');
  });

  it('fails closed within the deadline when the registry is down, and says so', async () => {
    const down = `127.0.0.1:${await freePort()}/app:v1`;
    const r = await review(pod({ containers: [['app', down]] }, 'secured'), 'secured');
    expect(r.allowed).toBe(false);
    expect(r.ms).toBeLessThan(3000);
    expect(r.status?.message).toMatch(/failure policy/i);
  });

  it("reads a private registry with the pod's imagePullSecrets, and only with them", async () => {
    const withSecret = pod({ containers: [['app', privateImage]], imagePullSecrets: ['regcred'] }, 'secured');
    const allowed = await review(withSecret, 'secured');
    expect(allowed.allowed, allowed.status?.message).toBe(true);
    const without = await review(pod({ containers: [['app', privateImage]] }, 'secured'), 'secured');
    expect(without.allowed).toBe(false);
    expect(without.status?.message).toContain('ERR_REGISTRY_UNAUTHORIZED');
  });

  it('answers Gatekeeper external data over the same HTTPS server', async () => {
    const items = await webhook.provider([`[secured]${signed}`, `[secured]${unsigned}`]);
    expect(items[0]?.error).toBeUndefined();
    expect(items[1]?.error).toContain('ERR_NO_SIGNATURE');
  });
});
