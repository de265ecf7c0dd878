import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/index.js';
import { ConfigDir, cli } from '../../helpers/cli.js';
import { buildImage, requireDocker } from '../../helpers/docker.js';
import { NODE_NAME, NodeCluster } from '../../helpers/kube/node-cluster.js';
import { pushRunnableImage, type RunnableImage } from '../../helpers/registry/runnable-image.js';
import { NAMESPACE, values } from '../../packaging/helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const TAG = 'portcullis:node-test';
const indent = (pem: string, n: number): string =>
  pem
    .trim()
    .split('\n')
    .map((l) => `${' '.repeat(n)}${l}`)
    .join('\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Obj = Record<string, any>;

/** A busybox-static image that prints which image it is, then sleeps. */
const workload = (label: string): RunnableImage => ({
  files: [
    { path: 'bin/busybox', source: '/bin/busybox' },
    { path: 'etc/image', content: `${label}\n`, mode: 0o644 },
  ],
  entrypoint: ['/bin/busybox', 'sh', '-c', 'cat /etc/image; exec /bin/busybox sleep 3600'],
});

/**
 * The demo on a node that starts pods (test/helpers/kube/node-cluster.ts: kube-apiserver,
 * controller manager, scheduler, kubelet and kube-proxy 1.20 built from Debian's source package,
 * Debian's containerd and runc, the CNI bridge). Portcullis is deployed from the chart's manifests
 * (rendered by scripts/chart/render.sh; only the image, digest pinning and the registry's plain
 * HTTP set) with its image built here (scripts/image/build.sh) and pulled by containerd from the
 * registry on the host, like every other image; the API server reaches it through its Service
 * (kube-proxy's iptables rules). `make e2e-node`; about 4 minutes (docs/e2e.md).
 */
describe('Portcullis on a node that starts pods', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-node-test-'));
  const wabbit = new ConfigDir();
  let cluster: NodeCluster;
  let registry: string;
  let signed: string;
  let signedDigest: string;
  let unsigned: string;
  let streamSigned: string;
  let portcullisDigest: string;
  let configYaml: string;

  const kubectl = (args: string[], input?: string) =>
    cluster.kubectl(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
  const apply = async (yaml: string): Promise<void> => {
    const r = await kubectl(['apply', '-f', '-'], yaml);
    expect(r.code, r.stderr).toBe(0);
  };
  const jsonpath = async (args: string[], path: string): Promise<string> =>
    (await kubectl([...args, '-o', `jsonpath=${path}`])).stdout;
  const eventually = async (
    check: () => Promise<boolean>,
    what: string | (() => string),
    ms = 120_000,
  ): Promise<void> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (await check()) return;
      await sleep(500);
    }
    const pods = await kubectl(['get', 'pods', '-A', '-o', 'wide']);
    const events = await kubectl(['get', 'events', '-A', '--sort-by=.lastTimestamp']);
    throw new Error(
      `timed out waiting for ${typeof what === 'string' ? what : what()}\n${pods.stdout}\n${events.stdout.split('\n').slice(-25).join('\n')}\nkubelet:\n${cluster.logTail('kubelet', 15)}`,
    );
  };
  /** The container's output, read through the API server from the kubelet (kubectl logs). */
  const expectLog = async (ns: string, pod: string, text: string): Promise<void> => {
    let last = '';
    await eventually(
      async () => {
        const r = await kubectl(['logs', pod, '-n', ns]);
        last = r.stdout + r.stderr;
        return r.stdout.includes(text);
      },
      () => `the log of ${ns}/${pod} (last: ${last})`,
      30_000,
    );
  };
  const waitRunning = (ns: string, pod: string) =>
    eventually(
      async () => (await jsonpath(['get', 'pod', pod, '-n', ns], '{.status.containerStatuses[0].ready}')) === 'true',
      `pod ${ns}/${pod} running and ready`,
    );

  /** POST a Pod to the API server with dryRun=All: admission (both webhooks) runs, nothing is stored. */
  const dryRunPod = (ns: string, name: string, image: string): Promise<{ status: number; message: string }> =>
    new Promise((resolvePromise, reject) => {
      const body = JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns },
        spec: { containers: [{ name: 'app', image }] },
      });
      const req = request(
        `${cluster.api.server}/api/v1/namespaces/${ns}/pods?dryRun=All`,
        {
          method: 'POST',
          ca: readFileSync(cluster.api.caFile),
          headers: { authorization: `Bearer ${cluster.api.token}`, 'content-type': 'application/json' },
          timeout: 30_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => {
            let message = '';
            try {
              message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
            } catch {
              message = text;
            }
            resolvePromise({ status: res.statusCode ?? 0, message });
          });
        },
      );
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    requireDocker();
    const built = buildImage(TAG);
    cluster = await NodeCluster.start();
    registry = cluster.registryHost;

    // The demo's images, and one more signed image for the stream of creations.
    const client = new RegistryClient({ plainHttp: () => true });
    signedDigest = (
      await pushRunnableImage(
        client,
        { registry, repository: 'net-monitor' },
        'v1',
        workload('net-monitor v1 (signed)'),
      )
    ).digest;
    await pushRunnableImage(client, { registry, repository: 'nginx' }, 'unsigned', workload('nginx (unsigned)'));
    await pushRunnableImage(client, { registry, repository: 'app' }, 'v1', workload('app v1 (signed)'));
    await client.close();
    signed = `${registry}/net-monitor:v1`;
    unsigned = `${registry}/nginx:unsigned`;
    streamSigned = `${registry}/app:v1`;
    expect(
      (
        await cli([
          'cert',
          'generate-test',
          '--config-dir',
          wabbit.path,
          '--key-type',
          'ec',
          '--default',
          'wabbit-networks.io',
        ])
      ).status,
    ).toBe(0);
    for (const image of [signed, streamSigned]) {
      const r = await cli(['sign', '--config-dir', wabbit.path, '--plain-http', image]);
      expect(r.status, r.stderr).toBe(0);
    }

    // The Portcullis image, into the same registry: docker save | ctr import | ctr push.
    await built;
    const importNs = 'portcullis-build';
    const imported = spawnSync(
      'sh',
      [
        '-c',
        `docker save ${TAG} | ctr --address ${cluster.containerdSocket} -n ${importNs} images import --platform linux/amd64 -`,
      ],
      { encoding: 'utf8' },
    );
    expect(imported.status, imported.stderr).toBe(0);
    const local = cluster
      .ctr(['-n', importNs, 'images', 'ls', '-q'])
      .stdout.split('\n')
      .find((n) => n.endsWith(TAG)) as string;
    cluster.ctr(['-n', importNs, 'images', 'tag', local, `${registry}/portcullis:node-test`]);
    cluster.ctr(['-n', importNs, 'images', 'push', '--plain-http', `${registry}/portcullis:node-test`]);
    portcullisDigest = /sha256:[0-9a-f]{64}/.exec(
      cluster
        .ctr(['-n', importNs, 'images', 'ls'])
        .stdout.split('\n')
        .find((l) => l.startsWith(`${registry}/portcullis:node-test`)) ?? '',
    )?.[0] as string;
    expect(portcullisDigest).toMatch(/^sha256:/);
    // Gone from the import namespace: the kubelet's pull must come from the registry.
    cluster.ctr(['-n', importNs, 'images', 'rm', local, `${registry}/portcullis:node-test`]);

    // Kubernetes 1.20 does not label namespaces with their name; the chart's exclusions match on it.
    for (const ns of ['kube-system', 'default', NAMESPACE]) {
      await apply(
        stringify({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
        }),
      );
    }
    const crds = await kubectl(['apply', '-k', join(ROOT, 'deploy/crds')]);
    expect(crds.code, crds.stderr).toBe(0);
    await kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);

    // The chart, rendered by the project's renderer as `helm install` would: the image from the
    // registry on the host, digest pinning on, that registry's plain HTTP. The chart needs 1.21+
    // (docs/install.md, "Kubernetes versions") and this server is 1.20.2: it is rendered for 1.21,
    // the namespaces carry the kubernetes.io/metadata.name label 1.21 would set (above), and the
    // policy/v1 PodDisruptionBudget, which 1.20 does not serve, is left out (one replica here).
    const valuesFile = join(dir, 'values.yaml');
    writeFileSync(
      valuesFile,
      stringify({
        image: { repository: `${registry}/portcullis`, tag: 'node-test' },
        mutate: { enabled: true },
        config: { registries: { hosts: { [registry]: { plainHttp: true } } } },
      }),
    );
    const docs = values('--kube-version', '1.21.0', '-f', valuesFile).filter(
      (d) => d['kind'] !== 'PodDisruptionBudget',
    );
    configYaml = (docs.find((d) => d['kind'] === 'ConfigMap') as Obj)['data']['config.yaml'] as string;
    await apply(docs.map((d) => stringify(d)).join('---\n'));
    const rollout = await kubectl(['-n', NAMESPACE, 'rollout', 'status', 'deployment/portcullis', '--timeout=300s']);
    expect(rollout.code, `${rollout.stderr}\n${cluster.logTail('kubelet')}`).toBe(0);

    // The policies: the demo's baseline for namespaces labelled portcullis.dev/enforce=true.
    const pem = readFileSync(join(wabbit.path, 'localkeys/wabbit-networks.io.crt'), 'utf8');
    await apply(`apiVersion: v1
kind: Namespace
metadata: { name: secured, labels: { kubernetes.io/metadata.name: secured, portcullis.dev/enforce: "true" } }
---
apiVersion: v1
kind: Namespace
metadata: { name: not-secured, labels: { kubernetes.io/metadata.name: not-secured } }
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: wabbit-networks }
spec:
  type: ca
  certificates: |
${indent(pem, 4)}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: baseline }
spec:
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: wabbit-networks-images
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:wabbit-networks"]
      trustedIdentities: ["*"]
`);
    await eventually(
      async () =>
        (await jsonpath(['get', 'clustertrustpolicy', 'baseline'], '{.status.conditions[0].status}')) === 'True',
      'Portcullis to mark the baseline Ready',
    );
    await eventually(
      async () => (await dryRunPod('secured', 'probe', unsigned)).message.includes('ERR_NO_SIGNATURE'),
      'the webhook to deny with the policy in force',
    );
  }, 20 * 60_000);

  afterAll(async () => {
    await cluster?.stop();
    wabbit.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it("runs Portcullis from the chart's manifests: its replicas ready, their image pulled from the registry, the webhook called through the Service", async () => {
    expect(await jsonpath(['-n', NAMESPACE, 'get', 'deployment', 'portcullis'], '{.status.readyReplicas}')).toBe('2');
    const imageIds = (
      await jsonpath(
        ['-n', NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=portcullis'],
        '{.items[*].status.containerStatuses[0].imageID}',
      )
    ).split(' ');
    expect(imageIds).toEqual([
      `${registry}/portcullis@${portcullisDigest}`,
      `${registry}/portcullis@${portcullisDigest}`,
    ]);
    const hook = JSON.parse((await kubectl(['get', 'validatingwebhookconfigurations', '-o', 'json'])).stdout)
      .items[0] as Obj;
    expect(hook['webhooks'][0].clientConfig.service).toMatchObject({ name: 'portcullis', namespace: NAMESPACE });
    expect(hook['webhooks'][0].clientConfig.url).toBeUndefined();
    // The Service's ClusterIP answers on the node (kube-proxy), and its endpoints are the pods.
    const endpoints = (
      await jsonpath(['-n', NAMESPACE, 'get', 'endpoints', 'portcullis'], '{.subsets[0].addresses[*].ip}')
    ).split(' ');
    expect(endpoints).toHaveLength(2);
  });

  it('refuses kubectl run of the unsigned image in secured', async () => {
    const r = await kubectl(['run', 'nginx', `--image=${unsigned}`, '-n', 'secured']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('denied the request');
    expect(r.stderr).toContain('ERR_NO_SIGNATURE');
    expect(r.stderr).toContain('ClusterTrustPolicy baseline');
    expect((await kubectl(['get', 'pod', 'nginx', '-n', 'secured'])).code).not.toBe(0);
  });

  it('runs the signed image in secured: the pod starts and its container prints its banner', async () => {
    const r = await kubectl(['run', 'net-monitor', `--image=${signed}`, '-n', 'secured']);
    expect(r.code, r.stderr).toBe(0);
    await waitRunning('secured', 'net-monitor');
    await expectLog('secured', 'net-monitor', 'net-monitor v1 (signed)');
  });

  it('with digest pinning, the running container is the digest that was verified, even after the tag moves', async () => {
    // Admission pinned the tag to the digest Portcullis verified; the kubelet ran exactly that.
    expect(await jsonpath(['get', 'pod', 'net-monitor', '-n', 'secured'], '{.spec.containers[0].image}')).toBe(
      `${registry}/net-monitor@${signedDigest}`,
    );
    expect(
      await jsonpath(['get', 'pod', 'net-monitor', '-n', 'secured'], '{.status.containerStatuses[0].imageID}'),
    ).toBe(`${registry}/net-monitor@${signedDigest}`);
    const containerId = (
      await jsonpath(['get', 'pod', 'net-monitor', '-n', 'secured'], '{.status.containerStatuses[0].containerID}')
    ).replace('containerd://', '');
    const info = JSON.parse(cluster.ctr(['-n', 'k8s.io', 'containers', 'info', containerId]).stdout) as Obj;
    expect(info['Image']).toBe(`${registry}/net-monitor@${signedDigest}`);

    // A Deployment of the tag, pinned at admission; then someone pushes unsigned content under that tag.
    expect((await kubectl(['create', 'deployment', 'pinned', `--image=${signed}`, '-n', 'secured'])).code).toBe(0);
    expect(
      await jsonpath(['get', 'deployment', 'pinned', '-n', 'secured'], '{.spec.template.spec.containers[0].image}'),
    ).toBe(`${registry}/net-monitor@${signedDigest}`);
    const client = new RegistryClient({ plainHttp: () => true });
    const moved = await pushRunnableImage(
      client,
      { registry, repository: 'net-monitor' },
      'v1',
      workload('net-monitor v1 REPLACED (unsigned)'),
    );
    await client.close();
    expect(moved.digest).not.toBe(signedDigest);
    // New pods from the tag: until Portcullis' tag cache expires (config.cache.tagTtlSeconds, 30 s
    // in the chart) they are admitted pinned to the digest verified before; then refused.
    const ttl = Number(/tagTtlSeconds:\s*(\d+)/.exec(configYaml)?.[1]);
    const movedAt = Date.now();
    let refusedAfter: number | undefined;
    for (let i = 0; refusedAfter === undefined && Date.now() - movedAt < (ttl + 20) * 1000; i++) {
      const r = await kubectl(['run', `net-monitor-${i}`, `--image=${signed}`, '-n', 'secured']);
      if (r.code === 0) {
        expect(await jsonpath(['get', 'pod', `net-monitor-${i}`, '-n', 'secured'], '{.spec.containers[0].image}')).toBe(
          `${registry}/net-monitor@${signedDigest}`,
        );
      } else {
        expect(r.stderr).toContain('ERR_NO_SIGNATURE');
        refusedAfter = Date.now() - movedAt;
      }
      await sleep(2000);
    }
    expect(refusedAfter, 'the moved tag is refused once the tag cache expires').toBeDefined();
    expect(refusedAfter as number).toBeLessThan((ttl + 20) * 1000);
    // ...while the Deployment's new pods still run the verified content.
    expect((await kubectl(['scale', 'deployment', 'pinned', '--replicas=2', '-n', 'secured'])).code).toBe(0);
    await eventually(
      async () => (await jsonpath(['get', 'deployment', 'pinned', '-n', 'secured'], '{.status.readyReplicas}')) === '2',
      'two pinned replicas',
    );
    const pods = (
      await jsonpath(['get', 'pods', '-n', 'secured', '-l', 'app=pinned'], '{.items[*].metadata.name}')
    ).split(' ');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(await jsonpath(['get', 'pod', pod, '-n', 'secured'], '{.status.containerStatuses[0].imageID}')).toBe(
        `${registry}/net-monitor@${signedDigest}`,
      );
      await expectLog('secured', pod, 'net-monitor v1 (signed)');
    }
  });

  it('loses no request during a rolling restart of Portcullis under a stream of pod creations', async () => {
    const podsBefore = (
      await jsonpath(
        ['-n', NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=portcullis'],
        '{.items[*].metadata.name}',
      )
    ).split(' ');
    const results: { image: string; status: number; message: string; at: number }[] = [];
    let streaming = true;
    let n = 0;
    const worker = async (): Promise<void> => {
      while (streaming) {
        const i = n++;
        const image = i % 2 === 0 ? streamSigned : unsigned;
        const r = await dryRunPod('secured', `stream-${i}`, image).catch((e: Error) => ({
          status: 0,
          message: e.message,
        }));
        results.push({ image, ...r, at: Date.now() });
        await sleep(20); // a steady stream, not a benchmark: this machine is shared
      }
    };
    const workers = [worker(), worker(), worker()];
    await sleep(2000);
    const restart = await kubectl(['-n', NAMESPACE, 'rollout', 'restart', 'deployment/portcullis']);
    expect(restart.code, restart.stderr).toBe(0);
    const status = await kubectl(['-n', NAMESPACE, 'rollout', 'status', 'deployment/portcullis', '--timeout=300s']);
    expect(status.code, status.stderr).toBe(0);
    // Until the old pods are gone (they drain after the new ones are ready), and a little after.
    await eventually(async () => {
      const now = (
        await jsonpath(
          ['-n', NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=portcullis'],
          '{.items[*].metadata.name}',
        )
      ).split(' ');
      return now.every((p) => !podsBefore.includes(p));
    }, 'the old Portcullis pods to be gone');
    await sleep(3000);
    streaming = false;
    await Promise.all(workers);

    const podsAfter = (
      await jsonpath(
        ['-n', NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=portcullis'],
        '{.items[*].metadata.name}',
      )
    ).split(' ');
    expect(podsAfter.filter((p) => podsBefore.includes(p))).toEqual([]);
    process.stderr.write(`[node] ${results.length} pod creations during the rolling restart\n`);
    expect(results.length).toBeGreaterThan(30);
    const wrong = results.filter((r) =>
      r.image === streamSigned ? r.status !== 201 : !(r.status === 403 && r.message.includes('ERR_NO_SIGNATURE')),
    );
    expect(wrong.map((r) => `${r.image}: ${r.status} ${r.message.slice(0, 300)}`)).toEqual([]);
  }, 600_000);

  it(`schedules onto ${NODE_NAME}, the one node`, async () => {
    expect(await jsonpath(['get', 'pod', 'net-monitor', '-n', 'secured'], '{.spec.nodeName}')).toBe(NODE_NAME);
  });
});
