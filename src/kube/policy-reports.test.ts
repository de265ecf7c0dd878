import { KubeConfig } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyReportWriter } from './policy-reports.js';

/** An API server that serves no wgpolicyk8s.io kinds: every request is 404, as without the CRDs. */
async function apiWithoutReportCrds(): Promise<{ server: Server; kubeConfig: KubeConfig }> {
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { server, kubeConfig };
}

describe('PolicyReportWriter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('without the PolicyReport CRDs, says so and how to install them (not just "HTTP 404")', async () => {
    const api = await apiWithoutReportCrds();
    server = api.server;
    const writer = new PolicyReportWriter(api.kubeConfig);
    const report = {
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'ClusterPolicyReport' as const,
      metadata: { name: 'portcullis-audit', labels: {} },
    };
    const failure = await writer.writeAll([report], 'app.kubernetes.io/managed-by=portcullis').catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'ERR_KUBE_API' });
    expect((failure as Error).message).toContain('writing ClusterPolicyReport portcullis-audit');
    expect((failure as Error).message).toContain('PolicyReport CRDs are not installed');
    expect((failure as Error).message).toContain('kubectl apply -k deploy/policyreport-crds');
  });
});
