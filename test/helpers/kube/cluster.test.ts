import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXT, Pki, type Issued } from '../pki.js';
import { KubeCluster } from './cluster.js';

// The harness itself, against a real kube-apiserver. This file does not skip when the binary
// is missing: KubeCluster.start() fails with instructions (make kube-apiserver), because CI must
// run it. Every name is fresh per run: namespaces never finish terminating on this server.

const run = Date.now().toString(36);
const ns = `harness-${run}`;
const WEBHOOK_NAME = `deny-pods-${run}.portcullis.test`;
const DENY_MESSAGE = 'portcullis-harness: pods are denied in this namespace';

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.harness.portcullis.test
spec:
  group: harness.portcullis.test
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList }
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: { status: {} }
    additionalPrinterColumns:
    - { name: Size, type: integer, jsonPath: .spec.size }
    - { name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status' }
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: { type: integer, minimum: 1 }
              color: { type: string, enum: [red, green] }
          status:
            type: object
            properties:
              conditions:
                type: array
                items:
                  type: object
                  required: [type, status]
                  properties:
                    type: { type: string }
                    status: { type: string }
                    reason: { type: string }
`;

/** An HTTPS ValidatingWebhook that denies every Pod with DENY_MESSAGE. */
function denyingWebhook(tls: Issued): Promise<{ server: Server; port: number; reviews: string[] }> {
  const reviews: string[] = [];
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const review = JSON.parse(body) as { request: { uid: string; kind: { kind: string } } };
      reviews.push(review.request.kind.kind);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed: false, status: { code: 403, message: DENY_MESSAGE } },
        }),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, reviews })),
  );
}

describe('KubeCluster (real kube-apiserver + etcd on 127.0.0.1)', () => {
  let cluster: KubeCluster;
  const started = Date.now();

  beforeAll(async () => {
    cluster = await KubeCluster.start();
    console.log(`KubeCluster ready in ${Date.now() - started} ms at ${cluster.server}`);
  }, 120_000);

  afterAll(async () => {
    // Leave nothing behind even if a test failed between create and delete.
    await cluster?.kubectl(['delete', 'validatingwebhookconfiguration', WEBHOOK_NAME, '--ignore-not-found'], {
      allowFail: true,
    });
    await cluster?.stop();
    console.log(`KubeCluster file done in ${Date.now() - started} ms`);
  }, 30_000);

  it('serves the API on loopback with a kubeconfig kubectl can use', async () => {
    expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const version = await cluster.kubectl(['version', '-o', 'json']);
    expect(JSON.parse(version.stdout).serverVersion.gitVersion).toBe('v1.20.2');
    const nss = await cluster.kubectl(['get', 'ns', '-o', 'name']);
    expect(nss.stdout).toContain('namespace/default');
    expect(nss.stdout).toContain('namespace/kube-system');
  });

  it('creates a namespace and a ConfigMap', async () => {
    await cluster.kubectl(['create', 'namespace', ns]);
    await cluster.kubectl(['-n', ns, 'create', 'configmap', 'c1', '--from-literal=k=v']);
    const cm = await cluster.kubectl(['-n', ns, 'get', 'configmap', 'c1', '-o', 'jsonpath={.data.k}']);
    expect(cm.stdout).toBe('v');
  });

  it('applies a CRD with a structural schema, status subresource and printer columns', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: CRD });
    await cluster.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      'crd/widgets.harness.portcullis.test',
    ]);

    await cluster.kubectl(['-n', ns, 'apply', '-f', '-'], {
      input:
        'apiVersion: harness.portcullis.test/v1alpha1\nkind: Widget\nmetadata: { name: w1 }\nspec: { size: 3, color: red }\n',
    });
    // The status subresource: a patch to /status sets status, a main-resource write cannot.
    await cluster.kubectl([
      '-n',
      ns,
      'patch',
      'widget',
      'w1',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Checked"}]}}',
    ]);
    const table = await cluster.kubectl(['-n', ns, 'get', 'widgets']);
    expect(table.stdout).toMatch(/NAME\s+SIZE\s+READY/);
    expect(table.stdout).toMatch(/w1\s+3\s+True/);

    // The schema is enforced.
    const bad = await cluster.kubectl(['-n', ns, 'apply', '-f', '-'], {
      input:
        'apiVersion: harness.portcullis.test/v1alpha1\nkind: Widget\nmetadata: { name: w2 }\nspec: { size: 0, color: blue }\n',
      allowFail: true,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.size/);
    expect(bad.stderr).toMatch(/spec\.color/);
  });

  it('admits a Pod that stays Pending (no scheduler, no kubelet)', async () => {
    await cluster.kubectl(['-n', ns, 'run', 'x', '--image=nginx']);
    const phase = await cluster.kubectl(['-n', ns, 'get', 'pod', 'x', '-o', 'jsonpath={.status.phase}']);
    expect(phase.stdout).toBe('Pending');
  });

  it('calls a ValidatingWebhookConfiguration on 127.0.0.1 that denies Pods with its message', async () => {
    const pki = new Pki();
    const webhook = await (async () => {
      const ca = pki.issue({ subject: '/CN=harness webhook CA', extensions: EXT.root });
      const tls = pki.issue({
        subject: '/CN=127.0.0.1',
        issuer: ca,
        extensions: [
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth',
          'subjectAltName=IP:127.0.0.1',
        ],
        notBefore: new Date(Date.now() - 3600_000),
        notAfter: new Date(Date.now() + 24 * 3600_000),
      });
      return { ca, ...(await denyingWebhook(tls)) };
    })();
    try {
      const config = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: WEBHOOK_NAME },
        webhooks: [
          {
            name: WEBHOOK_NAME,
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            timeoutSeconds: 5,
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
            rules: [
              {
                apiGroups: [''],
                apiVersions: ['v1'],
                operations: ['CREATE'],
                resources: ['pods'],
                scope: 'Namespaced',
              },
            ],
            clientConfig: {
              url: `https://127.0.0.1:${webhook.port}/validate`,
              caBundle: Buffer.from(webhook.ca.certPem).toString('base64'),
            },
          },
        ],
      };
      await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(config) });
      // The namespace needs the label the selector matches (1.20 does not set it automatically).
      await cluster.kubectl(['label', 'namespace', ns, `kubernetes.io/metadata.name=${ns}`, '--overwrite']);

      // Webhook configurations reach the admission plugin through an informer: retry briefly.
      let denied = { code: 0, stdout: '', stderr: '' };
      for (let i = 0; i < 50; i++) {
        denied = await cluster.kubectl(['-n', ns, 'run', `y${i}`, '--image=nginx'], { allowFail: true });
        if (denied.code !== 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain(`admission webhook "${WEBHOOK_NAME}" denied the request: ${DENY_MESSAGE}`);
      expect(webhook.reviews).toContain('Pod');

      // Other namespaces are not selected.
      await cluster.kubectl(['-n', 'default', 'run', `z-${run}`, '--image=nginx']);
    } finally {
      await cluster.kubectl(['delete', 'validatingwebhookconfiguration', WEBHOOK_NAME, '--ignore-not-found']);
      webhook.server.closeAllConnections();
      await new Promise<void>((r) => webhook.server.close(() => r()));
      pki.cleanup();
    }
    const left = await cluster.kubectl(['get', 'validatingwebhookconfigurations', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
  });
});
