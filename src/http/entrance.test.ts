import type { ServerResponse } from 'node:http';
import { inject, type InjectOptions } from 'light-my-request';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageVerifier } from '../executor/index.js';
import { NoopMetrics } from '../metrics/index.js';
import { buildApp } from './app.js';
import { FakeVerifier, verifiedDecision } from './testing/fake-verifier.js';
import { admissionReview, pod } from './testing/reviews.js';

const T0 = 1_000_000;

type Entrance = (req: Parameters<ReturnType<typeof buildApp>['routing']>[0], res: ServerResponse) => void;
const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** The one entrance: what the HTTPS server does with every request (`startServer` → fastify's router). */
async function entranceOf(
  verifier: ImageVerifier = new FakeVerifier(),
  options: { bodyLimit?: number; mutate?: boolean } = {},
): Promise<Entrance> {
  const app = buildApp({
    verifier,
    metrics: new NoopMetrics(),
    options: { webhookTimeoutMs: 10_000, marginMs: 1_000, ...options },
    now: () => T0,
  });
  apps.push(app);
  await app.ready();
  return (req, res) => app.routing(req, res);
}

function call(entrance: Entrance, options: InjectOptions) {
  return inject((req, res) => entrance(req, res), options);
}

/** Adds 'written' to `events` when the answer's head is written. */
function noteWrites(res: ServerResponse, events: string[]): void {
  const writeHead = res.writeHead.bind(res);
  res.writeHead = ((...args: Parameters<typeof res.writeHead>) => {
    events.push('written');
    return writeHead(...args);
  }) as typeof res.writeHead;
}

const review = JSON.stringify(admissionReview(pod({ containers: [['a', 'r/a:1']] }), { uid: 'entrance-1' }));

describe('the review endpoints through the one entrance (fastify)', () => {
  it('takes POST /validate (with a query) and answers with the AdmissionReview', async () => {
    const res = await call(await entranceOf(), {
      method: 'POST',
      url: '/validate?timeout=5s',
      headers: { 'content-type': 'application/json' },
      payload: review,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'entrance-1', allowed: true },
    });
  });

  it.each([
    ['GET', '/validate', 404],
    ['POST', '/validatex', 404],
    ['POST', '/validate/x', 404],
    ['POST', '/healthz', 404],
    ['POST', '/gatekeeper/v1/verify', 400],
    ['POST', '/mutate', 404],
  ])('does not answer %s %s as an AdmissionReview (%i)', async (method, url, status) => {
    const res = await call(await entranceOf(), {
      method: method as 'GET',
      url,
      headers: { 'content-type': 'application/json' },
      ...(method === 'POST' ? { payload: review } : {}),
    });
    expect(res.statusCode).toBe(status);
    expect(res.json().kind).not.toBe('AdmissionReview');
  });

  it('takes POST /mutate when the mutating webhook is on', async () => {
    const res = await call(await entranceOf(new FakeVerifier(), { mutate: true }), {
      method: 'POST',
      url: '/mutate',
      headers: { 'content-type': 'application/json' },
      payload: review,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().response.patchType).toBe('JSONPatch');
  });

  it.each([
    ['/validate?timeout=5s', T0 + 4_000],
    ['/validate?dryRun=true&timeout=5s', T0 + 4_000],
    ['/validate?timeout=3s&x=1', T0 + 2_000],
    ['/validate?timeout=%35s', T0 + 4_000],
    ['/validate?xtimeout=5s', T0 + 9_000],
    ['/validate?timeout=%zz', T0 + 9_000],
    ['/validate', T0 + 9_000],
  ])('reads the deadline from %s', async (url, deadline) => {
    const verifier = new FakeVerifier();
    await call(await entranceOf(verifier), {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: review,
    });
    expect(verifier.calls[0]?.deadline).toBe(deadline);
  });

  it.each(['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8'])(
    'accepts Content-Type %s',
    async (type) => {
      const res = await call(await entranceOf(), {
        method: 'POST',
        url: '/validate',
        headers: { 'content-type': type },
        payload: review,
      });
      expect(res.statusCode).toBe(200);
    },
  );

  it.each([undefined, 'text/plain', 'application/jsonx', 'application/json-patch+json'])(
    'refuses Content-Type %s with 415',
    async (type) => {
      const res = await call(await entranceOf(), {
        method: 'POST',
        url: '/validate',
        headers: type === undefined ? {} : { 'content-type': type },
        payload: review,
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().code).toBe('ERR_ADMISSION_INVALID');
    },
  );

  it('refuses a body over the limit with 413, by its declared length and while it streams in without one', async () => {
    const entrance = await entranceOf(new FakeVerifier(), { bodyLimit: 100 });
    const declared = await call(entrance, {
      method: 'POST',
      url: '/validate',
      headers: { 'content-type': 'application/json' },
      payload: review,
    });
    expect(declared.statusCode).toBe(413);
    expect(declared.json().code).toBe('ERR_BODY_TOO_LARGE');
    const { Readable } = await import('node:stream');
    const streamed = await call(entrance, {
      method: 'POST',
      url: '/validate',
      headers: { 'content-type': 'application/json' },
      payload: Readable.from([review.slice(0, 80), review.slice(80)]),
    });
    expect(streamed.statusCode).toBe(413);
  });

  it.each(['', '{"apiVersion": ', '[1, 2', 'null'])('answers the body %j with a clear 400', async (payload) => {
    const res = await call(await entranceOf(), {
      method: 'POST',
      url: '/validate',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('ERR_ADMISSION_INVALID');
  });

  it('writes the answer after the turn that decided it, and not at all to a client that left meanwhile', async () => {
    // Decides at once, as the executor does on a warm cache, and notes when the turn's queued work runs.
    const events: string[] = [];
    const verifier = new FakeVerifier((r) => {
      events.push('decided');
      process.nextTick(() => events.push('same turn'));
      return verifiedDecision(r.image);
    });
    const entrance = await entranceOf(verifier);
    const res = await inject(
      (req, res) => {
        noteWrites(res, events);
        entrance(req, res);
      },
      { method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: review },
    );
    expect(res.statusCode).toBe(200);
    // Written as decided, the answer would come before the work queued in the deciding turn.
    expect(events).toEqual(['decided', 'same turn', 'written']);

    const gone: string[] = [];
    await new Promise<void>((resolve) => {
      void inject(
        (req, res) => {
          res.on('close', () => gone.push('closed'));
          noteWrites(res, gone);
          entrance(req, res);
          req.on('end', () => {
            res.destroy();
            setImmediate(() => setImmediate(resolve));
          });
        },
        { method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: review },
      ).catch(() => undefined);
    });
    expect(gone).not.toContain('written');
  });
});
