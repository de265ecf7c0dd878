import { inject } from 'light-my-request';
import { afterEach, describe, expect, it } from 'vitest';
import { NoopMetrics } from '../../metrics/index.js';
import { buildApp } from '../app.js';
import { FakeVerifier, verifiedDecision } from '../testing/fake-verifier.js';
import { admissionReview, pod } from '../testing/reviews.js';

/**
 * A pod spec is written by whoever may create pods, and Kubernetes bounds its lists only by the
 * request size (3 MiB). Reading one review must stay linear in its size: a review that takes
 * longer than the API server's timeout to read holds the event loop, so every other review of
 * the cluster waits with it (and times out into the webhook's failurePolicy).
 */

const TIMEOUT_MS = 10_000;
let app: ReturnType<typeof buildApp> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function answerTime(
  verifier: FakeVerifier,
  body: unknown,
): Promise<{ ms: number; status: number; allowed: unknown }> {
  app = buildApp({ verifier, metrics: new NoopMetrics(), options: { webhookTimeoutMs: TIMEOUT_MS } });
  await app.ready();
  const a = app;
  const payload = JSON.stringify(body);
  const started = Date.now();
  const res = await inject((req, res) => a.routing(req, res), {
    method: 'POST',
    url: '/validate',
    headers: { 'content-type': 'application/json' },
    payload,
  });
  return { ms: Date.now() - started, status: res.statusCode, allowed: res.json().response?.allowed };
}

describe('a review as large as the API server lets through', () => {
  it('with 200,000 distinct pull secrets is answered within the webhook timeout', async () => {
    const verifier = new FakeVerifier();
    const names = Array.from({ length: 200_000 }, (_, i) => `s${i}`);
    const body = admissionReview(pod({ containers: [['app', 'registry.example/app:1']], imagePullSecrets: names }));
    const { ms, status, allowed } = await answerTime(verifier, body);
    expect(status).toBe(200);
    expect(allowed).toBe(true);
    expect(verifier.calls[0]?.pullSecretNames).toHaveLength(200_000);
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });

  it('with 40,000 distinct images still to fetch is answered within the webhook timeout', async () => {
    // Every image needs the registry (a promise), as on a cold cache.
    const verifier = new FakeVerifier(async (r) => verifiedDecision(r.image));
    const containers = Array.from({ length: 40_000 }, (_, i) => [`c${i}`, `registry.example/app${i}:1`] as const);
    const { ms, status, allowed } = await answerTime(verifier, admissionReview(pod({ containers })));
    expect(status).toBe(200);
    expect(allowed).toBe(true);
    expect(verifier.calls).toHaveLength(40_000);
    expect(ms).toBeLessThan(TIMEOUT_MS);
  });
});
