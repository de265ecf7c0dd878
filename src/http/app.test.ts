import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonLines } from '../log/index.js';
import { NoopMetrics, PromMetrics } from '../metrics/index.js';
import { buildApp } from './app.js';
import { FakeVerifier, deniedDecision, verifiedDecision } from './testing/fake-verifier.js';
import { admissionReview, pod } from './testing/reviews.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('buildApp', () => {
  it('answers /healthz while the process runs', async () => {
    app = buildApp({ verifier: new FakeVerifier(undefined, false), metrics: new NoopMetrics() });
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 503 until the verifier is ready, then 200', async () => {
    const verifier = new FakeVerifier(undefined, false);
    app = buildApp({ verifier, metrics: new NoopMetrics() });
    const before = await app.inject({ method: 'GET', url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toEqual({ ready: false, message: 'waiting for the first policy snapshot' });
    verifier.setReady(true);
    const after = await app.inject({ method: 'GET', url: '/readyz' });
    expect(after.statusCode).toBe(200);
  });

  it('exposes Prometheus metrics in text format from its own registry', async () => {
    const metrics = new PromMetrics();
    metrics.observeRegistryRequest('registry.example', 200);
    metrics.observeCacheLookup('verdict', true);
    metrics.observeCacheLookup('verdict', false);
    metrics.observeVerification('authenticity', 'failed');
    app = buildApp({ verifier: new FakeVerifier(), metrics, options: { mutate: true } });
    await app.inject({
      method: 'POST',
      url: '/validate',
      payload: admissionReview(pod({ containers: [['a', 'r/a:1']] })),
    });
    await app.inject({
      method: 'POST',
      url: '/mutate',
      payload: admissionReview(pod({ containers: [['a', 'r/a:1']] })),
    });
    await app.inject({
      method: 'POST',
      url: '/gatekeeper/v1/verify',
      payload: {
        apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
        kind: 'ProviderRequest',
        request: { keys: ['r/a:1'] },
      },
    });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    for (const line of [
      'portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="Pod",operation="CREATE"} 1',
      'portcullis_admission_decisions_total{endpoint="mutate",result="allowed",kind="Pod",operation="CREATE"} 1',
      'portcullis_admission_decisions_total{endpoint="gatekeeper_verify",result="allowed",kind="ProviderRequest",operation="verify"} 1',
      'portcullis_registry_requests_total{host="registry.example",status="200"} 1',
      'portcullis_cache_lookups_total{cache="verdict",result="hit"} 1',
      'portcullis_cache_lookups_total{cache="verdict",result="miss"} 1',
      'portcullis_verification_results_total{check="authenticity",status="failed"} 1',
      'portcullis_request_duration_seconds_bucket{le="0.005",endpoint="validate"}',
      'portcullis_requests_in_flight{endpoint="validate"} 0',
      'portcullis_process_cpu_user_seconds_total',
    ]) {
      expect(res.body).toContain(line);
    }
    // Two apps in one process do not share counters.
    const other = new PromMetrics({ processMetrics: false });
    expect(await other.render()).not.toContain('registry.example');
  });

  it('writes one JSON log line per review with uid, namespace, kind, operation, images, decision and latency', async () => {
    const lines: any[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    const logger = pino({ level: 'info' }, stream);
    app = buildApp({ verifier: new FakeVerifier((r) => deniedDecision(r.image)), metrics: new NoopMetrics(), logger });
    await app.inject({
      method: 'POST',
      url: '/validate',
      payload: admissionReview(pod({ containers: [['a', 'r/a:1']], imagePullSecrets: ['regcred'] }), { uid: 'log-1' }),
    });
    const reviews = lines.filter((l) => l.msg === 'admission review');
    expect(lines).toHaveLength(1);
    expect(reviews[0]).toMatchObject({
      uid: 'log-1',
      namespace: 'team-a',
      kind: 'Pod',
      operation: 'CREATE',
      dryRun: false,
      images: [{ container: 'a', image: 'r/a:1', allowed: false }],
      decision: 'denied',
      denials: [expect.stringContaining('container "a" image "r/a:1"')],
      latencyMs: expect.any(Number),
    });
  });

  it('writes the same review line through the fast JSON-lines writer as through pino, in order with other lines', async () => {
    const lines: any[] = [];
    const sink = {
      write: (chunk: string) =>
        lines.push(
          ...chunk
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => JSON.parse(l)),
        ),
    };
    const logger = pino({ level: 'info', base: { service: 'portcullis' } }, sink);
    // Decides at once, as the executor does on a warm cache: the review is answered without a promise.
    const verifier = {
      ready: () => true,
      decide: (r: { images: readonly string[] }) => new Map(r.images.map((i) => [i, verifiedDecision(i)])),
    };
    app = buildApp({ verifier, metrics: new NoopMetrics(), logger, reviewLog: new JsonLines(logger, sink) });
    logger.info('before');
    const res = await app.inject({
      method: 'POST',
      url: '/validate',
      payload: admissionReview(pod({ containers: [['a', 'r/a:1']] }), { uid: 'fast-1' }),
    });
    expect(res.json().response).toEqual({ uid: 'fast-1', allowed: true });
    logger.info('after');
    expect(lines.map((l) => l.msg)).toEqual(['before', 'admission review', 'after']);
    expect(lines[1]).toMatchObject({
      level: 30,
      service: 'portcullis',
      uid: 'fast-1',
      images: [{ container: 'a', image: 'r/a:1', digest: expect.stringMatching(/^sha256:/), allowed: true }],
      decision: 'allowed',
      latencyMs: expect.any(Number),
    });
  });

  it('can leave out the Gatekeeper endpoints', async () => {
    app = buildApp({ verifier: new FakeVerifier(), metrics: new NoopMetrics(), options: { gatekeeper: false } });
    const res = await app.inject({ method: 'POST', url: '/gatekeeper/v1/verify', payload: {} });
    expect(res.statusCode).toBe(404);
  });

  it.each([
    [{ webhookTimeoutMs: 0 }, /webhookTimeoutMs must be a positive number/],
    [{ marginMs: -1 }, /marginMs must be a number ≥ 0/],
    [{ bodyLimit: Number.NaN }, /bodyLimit must be a positive number/],
  ])('refuses invalid options %j', (options, message) => {
    expect(() => buildApp({ verifier: new FakeVerifier(), metrics: new NoopMetrics(), options })).toThrow(message);
  });
});
