import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhook, type RunningWebhook } from '../../src/cli/serve.js';
import { DEFAULT_SERVE_CONFIG } from '../../src/config/serve-config.js';
import { admissionReview, pod } from '../../src/http/testing/reviews.js';
import { KubeCluster } from '../helpers/kube/cluster.js';
import { EXT, Pki, type Issued } from '../helpers/pki.js';

/**
 * Who may call the webhook (docs/install.md, "Who may call the webhook"): with tls.clientCaFile
 * only clients with a certificate from that CA — here the real kube-apiserver, configured with an
 * AdmissionConfiguration whose kubeconfig gives it a client certificate for the webhook's host —
 * while anyone else in the cluster gets 401. Without it, the server says so at start-up.
 */
describe('the webhook called only by the API server (client certificates)', () => {
  const pki = new Pki();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-client-auth-'));
  let cluster: KubeCluster;
  let trusting: RunningWebhook;
  let stranger: RunningWebhook;
  let open: RunningWebhook;
  let clientCa: Issued;
  const logs = { trusting: join(dir, 'trusting.log'), open: join(dir, 'open.log') };

  const start = (name: string, clientCaFile: string | undefined, logFile?: string): Promise<RunningWebhook> => {
    const policies = join(dir, `policies-${name}`);
    mkdirSync(policies, { recursive: true });
    writeFileSync(
      join(policies, 'policy.yaml'),
      `apiVersion: v1
kind: Namespace
metadata: { name: secured, labels: { portcullis.dev/enforce: "true" } }
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: ca }
spec:
  type: ca
  certificates: |
${clientCa.certPem.replace(/^/gm, '    ')}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: signed }
spec:
  enforcementAction: deny
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: signed
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:ca"]
      trustedIdentities: ["*"]
`,
    );
    return startWebhook({
      policies,
      port: 0,
      host: '127.0.0.1',
      devCertDir: join(dir, `cert-${name}`),
      ...(logFile === undefined ? {} : { logFd: openSync(logFile, 'a') }),
      config: {
        ...DEFAULT_SERVE_CONFIG,
        webhook: { ...DEFAULT_SERVE_CONFIG.webhook, timeoutSeconds: 5, shutdownDelaySeconds: 0 },
        verification: { ...DEFAULT_SERVE_CONFIG.verification, revocation: 'offline' },
        tls: { ...DEFAULT_SERVE_CONFIG.tls, clientCaFile },
        logging: { level: 'info' },
      },
    });
  };

  beforeAll(async () => {
    clientCa = pki.issue({ subject: '/CN=webhook client CA', extensions: EXT.root });
    const apiserverClient = pki.issue({
      subject: '/CN=kube-apiserver',
      issuer: clientCa,
      extensions: EXT.clientLeaf,
      notBefore: new Date(Date.now() - 3600_000),
    });
    const otherCa = pki.issue({ subject: '/CN=another client CA', extensions: EXT.root });
    writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
    writeFileSync(join(dir, 'other-ca.crt'), otherCa.certPem);
    writeFileSync(join(dir, 'apiserver-client.crt'), apiserverClient.certPem);
    writeFileSync(join(dir, 'apiserver-client.key'), apiserverClient.keyPem, { mode: 0o600 });
    trusting = await start('trusting', join(dir, 'client-ca.crt'), logs.trusting);
    stranger = await start('stranger', join(dir, 'other-ca.crt'));
    open = await start('open', undefined, logs.open);

    // The API server's side: a client certificate for each webhook host (docs/install.md).
    const user = (host: string) =>
      `- name: "${host}"\n  user:\n    client-certificate: ${join(dir, 'apiserver-client.crt')}\n    client-key: ${join(dir, 'apiserver-client.key')}\n`;
    writeFileSync(
      join(dir, 'webhook-kubeconfig.yaml'),
      `apiVersion: v1\nkind: Config\nusers:\n${user(`127.0.0.1:${trusting.port}`)}${user(`127.0.0.1:${stranger.port}`)}`,
    );
    const plugin = (name: string) =>
      `- name: ${name}\n  configuration:\n    apiVersion: apiserver.config.k8s.io/v1\n    kind: WebhookAdmissionConfiguration\n    kubeConfigFile: ${join(dir, 'webhook-kubeconfig.yaml')}\n`;
    writeFileSync(
      join(dir, 'admission.yaml'),
      `apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n${plugin('ValidatingAdmissionWebhook')}${plugin('MutatingAdmissionWebhook')}`,
    );
    cluster = await KubeCluster.start({
      apiServerFlags: { '--admission-control-config-file': join(dir, 'admission.yaml') },
    });
    for (const ns of ['secured', 'plain', 'refused']) {
      await cluster.kubectl(['create', 'namespace', ns]);
      await cluster.kubectl(['label', 'namespace', ns, `client-auth-test=${ns}`]);
    }
    const hook = (name: string, webhook: RunningWebhook, namespaces: string[]) => ({
      name,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      namespaceSelector: { matchExpressions: [{ key: 'client-auth-test', operator: 'In', values: namespaces }] },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
      clientConfig: {
        url: `${webhook.url}/validate`,
        caBundle: Buffer.from(readFileSync(webhook.devCaFile as string, 'utf8')).toString('base64'),
      },
    });
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'client-auth.portcullis.dev' },
        webhooks: [
          hook('trusting.portcullis.dev', trusting, ['secured', 'plain']),
          hook('stranger.portcullis.dev', stranger, ['refused']),
        ],
      }),
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await Promise.all([trusting?.stop(), stranger?.stop(), open?.stop()]);
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** `kubectl run`, retried while the webhook configuration reaches the admission plugin (an informer). */
  async function run(ns: string, image: string, until: (r: { code: number; stderr: string }) => boolean) {
    let r = { code: 0, stdout: '', stderr: '' };
    for (let i = 0; i < 50; i++) {
      r = await cluster.kubectl(['-n', ns, 'run', `p${i}-${Date.now()}`, `--image=${image}`], { allowFail: true });
      if (until(r)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return r;
  }

  it("answers the API server, which presents its client certificate: Portcullis's own decisions come back", async () => {
    // Not covered by a policy: admitted (a 401 would have been a denial, failurePolicy Fail).
    const admitted = await run('plain', '127.0.0.1:1/app:v1', (r) => r.code === 0);
    expect(admitted.code).toBe(0);
    // Covered, and the registry unreachable: Portcullis's failure policy denies, in its words.
    const denied = await run('secured', '127.0.0.1:1/app:v1', (r) => r.stderr.includes('portcullis'));
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('admission webhook "trusting.portcullis.dev" denied the request');
    expect(denied.stderr).toContain('ERR_REGISTRY_UNREACHABLE');
  });

  it('refuses an API server whose certificate another CA issued (the request fails, failurePolicy Fail)', async () => {
    const r = await run('refused', '127.0.0.1:1/app:v1', (x) => x.code !== 0);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('failed calling webhook "stranger.portcullis.dev"');
  });

  it('answers anyone else in the cluster 401 ERR_CLIENT_CERT_REQUIRED; the probes stay open', async () => {
    const agent = new Agent({ connect: { ca: readFileSync(trusting.devCaFile as string, 'utf8') } });
    try {
      const review = admissionReview(pod({ containers: [['app', 'registry.team-b.example/secret:v1']] }), {
        namespace: 'secured',
      });
      const res = await request(`${trusting.url}/validate`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(review),
      });
      expect(res.statusCode).toBe(401);
      expect(await res.body.json()).toMatchObject({ code: 'ERR_CLIENT_CERT_REQUIRED' });
      const ready = await request(`${trusting.url}/readyz`, { dispatcher: agent });
      expect(ready.statusCode).toBe(200);
      await ready.body.dump();
    } finally {
      await agent.close();
    }
  });

  it('warns at start-up when /validate is unauthenticated (no tls.clientCaFile), and only then', async () => {
    const lines = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { level: number; msg: string; see?: string });
    const warning = lines(logs.open).find((l) => l.msg.startsWith('unauthenticated:'));
    expect(warning).toMatchObject({ level: 40, see: 'docs/install.md#who-may-call-the-webhook' });
    expect(warning?.msg).toContain('tls.clientCaFile');
    expect(lines(logs.trusting).some((l) => l.msg.startsWith('unauthenticated:'))).toBe(false);
  });
});
