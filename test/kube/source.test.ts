import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadKubeConfig } from '../../src/kube/client.js';
import { KubernetesPolicySource } from '../../src/kube/source.js';
import { StatusWriter } from '../../src/kube/status-writer.js';
import { TRUST_MATERIAL_LABEL } from '../../src/kube/objects.js';
import { buildSnapshot } from '../../src/policyset/build.js';
import type { PolicySnapshot } from '../../src/policyset/types.js';
import { KubeCluster } from '../helpers/kube/cluster.js';
import { EXT, Pki, type Issued } from '../helpers/pki.js';
import { indent } from '../helpers/indent.js';

// The cluster source against a real kube-apiserver (v1.20, test/helpers/kube/cluster.ts): the
// informers, snapshots, status written back, certificate rotation through a Secret, a lost watch
// (a TCP proxy between the source and the API server is cut) and the API server going away.
// Names are fresh per run: namespaces never finish terminating on this server.

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = Date.now().toString(36);
const nsA = `kube-src-a-${run}`;
const nsB = `kube-src-b-${run}`;

/**
 * The project's CRDs (deploy/crds) when all four are there, else these minimal ones
 * (the CRDs are written in parallel with this source; the fallback keeps this test independent).
 */
function minimalCrd(kind: string, plural: string, scope: 'Namespaced' | 'Cluster'): string {
  return `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.portcullis.dev
spec:
  group: portcullis.dev
  scope: ${scope}
  names: { plural: ${plural}, singular: ${kind.toLowerCase()}, kind: ${kind}, listKind: ${kind}List }
  versions:
  - name: v1alpha1
    served: true
    storage: true
    subresources: { status: {} }
    additionalPrinterColumns:
    - { name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status' }
    - { name: Reason, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].reason' }
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: { type: object, x-kubernetes-preserve-unknown-fields: true }
          status: { type: object, x-kubernetes-preserve-unknown-fields: true }
`;
}

function crds(): { yaml: string; origin: string } {
  const dir = join(REPO_ROOT, 'deploy', 'crds');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.portcullis.dev.yaml'));
  } catch {
    // no chart yet
  }
  const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n---\n');
  const kinds = ['TrustPolicy', 'ClusterTrustPolicy', 'TrustStore', 'ClusterTrustStore'];
  if (files.length > 0 && kinds.every((k) => new RegExp(`kind:\\s*${k}\\b`).test(text)))
    return { yaml: text, origin: dir };
  return {
    yaml: [
      minimalCrd('TrustPolicy', 'trustpolicies', 'Namespaced'),
      minimalCrd('ClusterTrustPolicy', 'clustertrustpolicies', 'Cluster'),
      minimalCrd('TrustStore', 'truststores', 'Namespaced'),
      minimalCrd('ClusterTrustStore', 'clustertruststores', 'Cluster'),
    ].join('\n---\n'),
    origin: 'minimal CRDs in this test',
  };
}

/** A loopback TCP proxy to the API server that can drop every connection and refuse new ones. */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #refusing = false;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      if (this.#refusing) {
        client.destroy();
        return;
      }
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.once('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** Drops every open connection (the watches) and refuses new ones until restore(). */
  cut(): void {
    this.#refusing = true;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let cluster: KubeCluster;
let proxy: CuttableProxy;
let source: KubernetesPolicySource;
let writer: StatusWriter;
let pki: Pki;
let rootA: Issued;
let rootB: Issued;
let rootC: Issued;
const snapshots: PolicySnapshot[] = [];
const errors: string[] = [];

function policyManifest(namespace: string, name: string, store: string, action = 'deny'): string {
  return `
apiVersion: portcullis.dev/v1alpha1
kind: TrustPolicy
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  enforcementAction: ${action}
  version: "1.0"
  trustPolicies:
    - name: only
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["${store}"]
      trustedIdentities: ["*"]
`;
}

function baseManifests(): string {
  return `
apiVersion: v1
kind: Namespace
metadata:
  name: ${nsA}
  labels: { portcullis.dev/enforce: "true" }
---
apiVersion: v1
kind: Namespace
metadata: { name: ${nsB} }
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: roots }
spec:
  type: ca
  certificates: |
${indent(rootA.certPem, 4)}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: baseline }
spec:
  namespaceSelector:
    matchLabels: { portcullis.dev/enforce: "true" }
  version: "1.0"
  trustPolicies:
    - name: everything
      registryScopes: ["*"]
      signatureVerification: { level: permissive }
      trustStores: ["ca:roots"]
      trustedIdentities: ["*"]
---
${policyManifest(nsA, 'team', 'ca:roots')}
`;
}

async function statusOf(
  resource: string,
  name: string,
  namespace?: string,
): Promise<Record<string, unknown> | undefined> {
  const r = await cluster.kubectl([
    'get',
    resource,
    name,
    ...(namespace === undefined ? [] : ['-n', namespace]),
    '-o',
    'json',
  ]);
  return (JSON.parse(r.stdout) as { status?: Record<string, unknown> }).status;
}

function readyOf(status: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const conditions = (status?.['conditions'] ?? []) as Record<string, unknown>[];
  return conditions.find((c) => c['type'] === 'Ready');
}

const latest = (): PolicySnapshot => {
  const s = source.current();
  if (s === undefined) throw new Error('no snapshot');
  return s;
};

beforeAll(async () => {
  pki = new Pki();
  const root = (cn: string): Issued =>
    pki.issue({ subject: `/C=US/ST=WA/O=Portcullis Kube Test/CN=${cn}`, key: 'ec-384', extensions: EXT.root });
  rootA = root('Root A');
  rootB = root('Root B');
  rootC = root('Root C');

  cluster = await KubeCluster.start();
  const { yaml } = crds();
  await cluster.kubectl(['apply', '-f', '-'], { input: yaml });
  await cluster.kubectl([
    'wait',
    '--for',
    'condition=established',
    '--timeout',
    '30s',
    'crd/trustpolicies.portcullis.dev',
    'crd/clustertrustpolicies.portcullis.dev',
    'crd/truststores.portcullis.dev',
    'crd/clustertruststores.portcullis.dev',
  ]);

  const port = Number(new URL(cluster.server).port);
  proxy = new CuttableProxy({ host: '127.0.0.1', port });
  await proxy.listen();
  const kubeconfig = join(cluster.dir, 'kubeconfig-proxy');
  writeFileSync(
    kubeconfig,
    readFileSync(cluster.kubeconfig, 'utf8').replace(cluster.server, `https://127.0.0.1:${proxy.port}`),
    { mode: 0o600 },
  );
  const kubeConfig = loadKubeConfig({ kubeconfig });

  writer = new StatusWriter({
    kubeConfig,
    qps: 50,
    retryInitialMs: 200,
    onError: (e) => errors.push(e.message),
  });
  source = new KubernetesPolicySource({
    kubeConfig,
    debounceMs: 50,
    retryInitialMs: 200,
    retryMaxMs: 1000,
    onError: (e) => errors.push(e.message),
    onReconcile: (snapshot, objects) => writer.reconcile(snapshot, objects),
  });
}, 120_000);

afterAll(async () => {
  await source?.stop();
  await writer?.stop();
  await proxy?.close();
  await cluster?.stop();
  pki?.cleanup();
});

describe('KubernetesPolicySource against a real API server', () => {
  it(`reads the CRDs from ${crds().origin}`, () => {
    expect(crds().yaml).toContain('portcullis.dev');
  });

  it('is not ready before start; builds the snapshot of the cluster policies after the first list', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: baseManifests() });
    expect(source.ready()).toBe(false);
    expect(source.current()).toBeUndefined();
    await source.start((s) => snapshots.push(s));
    await source.whenReady();
    expect(source.ready()).toBe(true);
    const snapshot = latest();
    expect(snapshot.invalid).toEqual([]);
    expect(snapshot.documents.map((d) => `${d.id.kind} ${d.id.namespace ?? ''}/${d.id.name}`)).toEqual([
      'ClusterTrustPolicy /baseline',
      `TrustPolicy ${nsA}/team`,
    ]);
    expect(snapshot.documentsFor(nsA).map((d) => d.id.name)).toEqual(['baseline', 'team']);
    expect(snapshot.documentsFor(nsB)).toEqual([]);
    expect(snapshot.namespaceLabels.get(nsA)?.['portcullis.dev/enforce']).toBe('true');
    expect(snapshot.documents[0]?.generation).toBe(1); // metadata.generation from the API server
    const certs = snapshot.documents[1]?.trustStores.get('ca', 'roots');
    expect(certs?.length).toBe(1);

    // The same resources from a directory build the same documents and problems.
    const fromFiles = buildSnapshot({
      resources: parseAllDocuments(baseManifests()).map((d) => d.toJS() as unknown),
      revision: 1,
    });
    expect(fromFiles.documents.map((d) => [d.id, d.enforcementAction, d.policy, d.namespaceSelector])).toEqual(
      snapshot.documents.map((d) => [d.id, d.enforcementAction, d.policy, d.namespaceSelector]),
    );
    expect(fromFiles.invalid).toEqual(snapshot.invalid);

    // Status: Ready=True, reason Valid, observedGeneration.
    for (const [resource, name, namespace] of [
      ['clustertrustpolicy', 'baseline', undefined],
      ['clustertruststore', 'roots', undefined],
      ['trustpolicy', 'team', nsA],
    ] as const) {
      const ready = await waitFor(`${resource} ${name} Ready=True`, async () => {
        const status = await statusOf(resource, name, namespace);
        const c = readyOf(status);
        return c?.['status'] === 'True' ? { c, status } : undefined;
      });
      expect(ready.c['reason']).toBe('Valid');
      expect(ready.c['observedGeneration']).toBe(1);
      expect(ready.status?.['observedGeneration']).toBe(1);
      expect(typeof ready.c['lastTransitionTime']).toBe('string');
    }
  });

  it('does not rebuild a new snapshot for its own status writes', async () => {
    await writer.idle();
    const before = latest().revision;
    const writes = writer.stats().writes;
    await new Promise((r) => setTimeout(r, 1500));
    expect(latest().revision).toBe(before);
    expect(writer.stats().writes).toBe(writes); // no write storm either
  });

  it('reports an invalid TrustPolicy in the snapshot and in its status; fixing it makes it Ready', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: policyManifest(nsB, 'broken', 'ca:missing', 'warn') });
    const entry = await waitFor('the invalid policy', () => latest().invalid.find((e) => e.id.name === 'broken'));
    expect(entry.id).toEqual({ kind: 'TrustPolicy', namespace: nsB, name: 'broken' });
    expect(entry.code).toBe('ERR_TRUSTSTORE_NOT_FOUND');
    // Created invalid after start-up: reported, and it changes nothing (no block, no effect).
    expect(entry.blocks).toBeUndefined();
    expect(latest().invalidFor(nsB)).toHaveLength(0);

    const condition = await waitFor('Ready=False', async () => {
      const c = readyOf(await statusOf('trustpolicy', 'broken', nsB));
      return c?.['status'] === 'False' ? c : undefined;
    });
    expect(condition['reason']).toBe('Invalid');
    expect(condition['message']).toBe(entry.reason);
    expect(String(condition['message'])).toContain('trust store ca:missing not found');

    const table = await cluster.kubectl(['get', 'trustpolicies', '-A']);
    const row = table.stdout.split('\n').find((l) => l.includes('broken'));
    expect(row).toBeDefined();
    expect(table.stdout.split('\n')[0]).toMatch(/READY/);
    expect(row).toMatch(/\bFalse\b/);
    expect(row).toMatch(/\bInvalid\b/);

    // Fix: the policy now names the cluster store.
    await cluster.kubectl(['apply', '-f', '-'], { input: policyManifest(nsB, 'broken', 'ca:roots', 'warn') });
    await waitFor('the fixed policy in force', () => latest().documents.find((d) => d.id.name === 'broken'));
    expect(latest().invalid).toEqual([]);
    const fixed = await waitFor('Ready=True', async () => {
      const c = readyOf(await statusOf('trustpolicy', 'broken', nsB));
      return c?.['status'] === 'True' ? c : undefined;
    });
    expect(fixed['reason']).toBe('Valid');
    expect(fixed['observedGeneration']).toBe(2);
  });

  it('reads certificates from a labelled Secret and picks up a rotation without a restart', async () => {
    const secret = (pem: string): string => `
apiVersion: v1
kind: Secret
metadata:
  name: team-roots
  namespace: ${nsA}
  labels: { ${TRUST_MATERIAL_LABEL}: "true" }
type: Opaque
stringData:
  ca.crt: |
${indent(pem, 4)}
`;
    await cluster.kubectl(['apply', '-f', '-'], {
      input: `${secret(rootB.certPem)}
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustStore
metadata: { name: team-store, namespace: ${nsA} }
spec:
  type: ca
  certificateRefs:
    - { kind: Secret, name: team-roots, key: ca.crt }
---
${policyManifest(nsA, 'team', 'ca:team-store')}`,
    });
    const subjectOf = (s: PolicySnapshot): string | undefined =>
      s.documents.find((d) => d.id.name === 'team')?.trustStores.get('ca', 'team-store')?.[0]?.subject;
    const first = await waitFor('the store from the Secret', () => subjectOf(latest()));
    expect(first).toContain('Root B');
    const revision = latest().revision;

    await cluster.kubectl(['apply', '-f', '-'], { input: secret(rootC.certPem) });
    const rotated = await waitFor('the rotated certificate', () => {
      const subject = subjectOf(latest());
      return subject?.includes('Root C') === true ? subject : undefined;
    });
    expect(rotated).toContain('Root C');
    expect(latest().revision).toBeGreaterThan(revision);
    const store = await waitFor('TrustStore Ready=True', async () => {
      const c = readyOf(await statusOf('truststore', 'team-store', nsA));
      return c?.['status'] === 'True' ? c : undefined;
    });
    expect(store['reason']).toBe('Valid');
  });

  it('does not read an unlabelled Secret, and says why in the status', async () => {
    await cluster.kubectl(['apply', '-f', '-'], {
      input: `
apiVersion: v1
kind: Secret
metadata: { name: unlabelled, namespace: ${nsB} }
type: Opaque
stringData: { ca.crt: "not read" }
---
apiVersion: portcullis.dev/v1alpha1
kind: TrustStore
metadata: { name: nolabel, namespace: ${nsB} }
spec:
  type: ca
  certificateRefs:
    - { kind: Secret, name: unlabelled, key: ca.crt }
`,
    });
    const entry = await waitFor('the store invalid', () => latest().invalid.find((e) => e.id.name === 'nolabel'));
    expect(entry.code).toBe('ERR_TRUSTSTORE_REF_NOT_FOUND');
    const condition = await waitFor('Ready=False', async () => {
      const c = readyOf(await statusOf('truststore', 'nolabel', nsB));
      return c?.['status'] === 'False' ? c : undefined;
    });
    expect(String(condition['message'])).toContain(`labelled ${TRUST_MATERIAL_LABEL}=true`);
    await cluster.kubectl(['delete', 'truststore', 'nolabel', '-n', nsB]);
    await waitFor('the store gone', () => (latest().invalid.some((e) => e.id.name === 'nolabel') ? undefined : true));
  });

  it('keeps serving when the watches are cut, and catches up after reconnecting', async () => {
    const before = latest();
    const errorCount = errors.length;
    proxy.cut();
    await waitFor('a watch error', () => (errors.length > errorCount ? true : undefined));
    expect(source.ready()).toBe(true);
    expect(source.current()).toBe(before);
    expect(source.feeds().some((f) => !f.connected)).toBe(true);

    // A change made while Portcullis cannot see the API server ...
    await cluster.kubectl(['apply', '-f', '-'], { input: policyManifest(nsB, 'during-outage', 'ca:roots') });
    await new Promise((r) => setTimeout(r, 500));
    expect(source.current()).toBe(before);

    // ... shows up once the watches reconnect.
    proxy.restore();
    await waitFor(
      'the policy made during the outage',
      () => latest().documents.find((d) => d.id.name === 'during-outage'),
      30_000,
    );
    await waitFor('every watch connected', () => (source.feeds().every((f) => f.connected) ? true : undefined), 30_000);
    await waitFor(
      'its status',
      async () => readyOf(await statusOf('trustpolicy', 'during-outage', nsB))?.['status'] === 'True' || undefined,
    );
  });

  it('keeps the last snapshot and stays ready when the API server goes away', async () => {
    const before = latest();
    const errorCount = errors.length;
    await cluster.stop();
    await waitFor('a watch error', () => (errors.length > errorCount ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    expect(source.ready()).toBe(true);
    expect(source.current()).toBe(before);
    expect(before.documentsFor(nsA).map((d) => d.id.name)).toEqual(['baseline', 'team']);
  });
});
