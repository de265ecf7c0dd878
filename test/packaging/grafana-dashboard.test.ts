import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhook, type RunningWebhook } from '../../src/cli/serve.js';
import { DEFAULT_SERVE_CONFIG } from '../../src/config/serve-config.js';
import { CHART_DIR } from './helpers.js';

/** Every `portcullis_…` series name a PromQL expression reads. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(portcullis_[a-z0-9_]+)/g)].map((m) => m[1] as string);
}

/**
 * The chart's Grafana dashboard reads only metrics the server exports: a real server is started
 * (with /metrics on its own plain-HTTP port, metrics.port) and scraped; every name a panel
 * queries must be a metric family of the scrape (a histogram's _bucket/_sum/_count included).
 */
describe('the Grafana dashboard (charts/portcullis/dashboards/portcullis.json)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-dashboard-'));
  let server: RunningWebhook;
  let scrape: string;

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'policy.yaml'),
      `apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: everything }
spec:
  version: "1.0"
  trustPolicies:
    - name: skip
      registryScopes: ["*"]
      signatureVerification: { level: skip }
`,
    );
    server = await startWebhook({
      policies: dir,
      port: 0,
      host: '127.0.0.1',
      devCertDir: join(dir, 'cert'),
      config: {
        ...DEFAULT_SERVE_CONFIG,
        webhook: { ...DEFAULT_SERVE_CONFIG.webhook, shutdownDelaySeconds: 0 },
        logging: { level: 'silent' },
        metrics: { port: 0, host: '' },
      },
      logFd: 2,
    });
    // metrics.port 0 serves /metrics on the HTTPS port: scrape it there first.
    scrape = await new Promise<string>((resolve, reject) => {
      const req = request(`${server.url}/metrics`, { ca: readFileSync(server.devCaFile as string) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queries only metrics a running server exports', () => {
    const families = new Set(
      scrape
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2] as string),
    );
    expect(families.has('portcullis_build_info')).toBe(true);
    const dashboard = JSON.parse(readFileSync(join(CHART_DIR, 'dashboards', 'portcullis.json'), 'utf8'));
    const queried = new Set<string>();
    for (const panel of dashboard.panels)
      for (const t of panel.targets) for (const n of metricNames(t.expr)) queried.add(n);
    for (const v of dashboard.templating.list)
      if (typeof v.query === 'string') for (const n of metricNames(v.query)) queried.add(n);
    expect(queried.size).toBeGreaterThan(10);
    const unknown = [...queried].filter(
      (n) => !families.has(n) && !families.has(n.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(unknown).toEqual([]);
  });

  it('a name the server does not export would be caught', () => {
    expect(metricNames('rate(portcullis_no_such_metric_total[5m])')).toEqual(['portcullis_no_such_metric_total']);
    expect(scrape).not.toContain('portcullis_no_such_metric_total');
  });
});

describe('metrics.port: /metrics on a plain-HTTP port of its own', () => {
  it('serves /metrics there (and only there), and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-metrics-port-'));
    writeFileSync(join(dir, 'empty.yaml'), '');
    const { freePort } = await import('../helpers/registry/free-port.js');
    const port = await freePort();
    const server = await startWebhook({
      policies: dir,
      port: 0,
      host: '127.0.0.1',
      devCertDir: join(dir, 'cert'),
      config: {
        ...DEFAULT_SERVE_CONFIG,
        webhook: { ...DEFAULT_SERVE_CONFIG.webhook, shutdownDelaySeconds: 0 },
        logging: { level: 'silent' },
        metrics: { port, host: '' },
      },
      logFd: 2,
    });
    try {
      expect(server.metricsUrl).toBe(`http://127.0.0.1:${port}/metrics`);
      const metrics = await fetch(server.metricsUrl as string);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('portcullis_policy_snapshot_revision 1');
      expect((await fetch(`http://127.0.0.1:${port}/validate`, { method: 'POST' })).status).toBe(404);
      const https = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/metrics`, { ca: readFileSync(server.devCaFile as string) }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(https).toBe(404);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
