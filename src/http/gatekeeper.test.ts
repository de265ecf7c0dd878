import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageDecision } from '../executor/types.js';
import { NoopMetrics } from '../metrics/index.js';
import { type AppOptions, buildApp } from './app.js';
import { parseKey } from './gatekeeper.js';
import { DIGEST, FakeVerifier, deniedDecision, verifiedDecision } from './testing/fake-verifier.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function setup(verifier = new FakeVerifier(), options: AppOptions = {}) {
  app = buildApp({ verifier, metrics: new NoopMetrics(), options });
  return app;
}

const providerRequest = (keys: unknown, apiVersion = 'externaldata.gatekeeper.sh/v1beta1') => ({
  apiVersion,
  kind: 'ProviderRequest',
  request: { keys },
});

async function call(a: FastifyInstance, mode: 'verify' | 'mutate', body: unknown) {
  const res = await a.inject({ method: 'POST', url: `/gatekeeper/v1/${mode}`, payload: body as object });
  return { status: res.statusCode, body: res.json() };
}

describe('parseKey', () => {
  it.each([
    ['r.example/a:1', { namespace: 'dflt', image: 'r.example/a:1' }],
    ['[team-a]r.example/a:1', { namespace: 'team-a', image: 'r.example/a:1' }],
    [
      '[]r.example/a:1',
      {
        error:
          'key "[]r.example/a:1" has an empty [namespace] part; write the image alone to check it in the default namespace [ERR_ADMISSION_INVALID]',
      },
    ],
    ['[Team_A]r/a:1', { error: expect.stringContaining('is not a namespace name') }],
    ['[team-a]', { error: expect.stringContaining('names no image') }],
  ])('%s', (key, expected) => {
    expect(parseKey(key, 'dflt')).toEqual(expected);
  });
});

describe('POST /gatekeeper/v1/verify', () => {
  it('gives a []image key its own error and answers the other keys', async () => {
    const verifier = new FakeVerifier();
    const a = setup(verifier);
    const { status, body } = await call(a, 'verify', providerRequest(['[]r.example/a:1', '[team-a]r.example/a:1']));
    expect(status).toBe(200);
    expect(body.response.systemError).toBeUndefined();
    expect(body.response.items[0]).toEqual({
      key: '[]r.example/a:1',
      error: expect.stringContaining('has an empty [namespace] part'),
    });
    expect(body.response.items[1].error).toBeUndefined();
    expect(verifier.calls.map((c) => c.namespace)).toEqual(['team-a']);
  });

  it('answers one item per key, with the namespace from [ns] and the default for bare keys', async () => {
    const verifier = new FakeVerifier((r) =>
      r.image.includes('bad') ? deniedDecision(r.image) : verifiedDecision(r.image),
    );
    const a = setup(verifier, { gatekeeperDefaultNamespace: 'gatekeeper-system' });
    const { status, body } = await call(
      a,
      'verify',
      providerRequest(['[team-a]r.example/good:1', 'r.example/good:1', '[team-b]r.example/bad:1']),
    );
    expect(status).toBe(200);
    expect(body.apiVersion).toBe('externaldata.gatekeeper.sh/v1beta1');
    expect(body.kind).toBe('ProviderResponse');
    expect(body.response.idempotent).toBe(true);
    expect(body.response.systemError).toBeUndefined();
    const [a1, a2, a3] = body.response.items;
    expect(a1).toEqual({
      key: '[team-a]r.example/good:1',
      value: {
        allowed: true,
        verified: true,
        image: 'r.example/good:1',
        namespace: 'team-a',
        digest: DIGEST,
        verdicts: [
          {
            policy: 'TrustPolicy team-a/prod',
            enforcementAction: 'deny',
            verified: true,
            statement: 'prod',
            failedCheck: null,
            code: null,
            message: 'verified',
          },
        ],
        warnings: [],
      },
    });
    expect(a2.value.namespace).toBe('gatekeeper-system');
    expect(a3.key).toBe('[team-b]r.example/bad:1');
    expect(a3.value.allowed).toBe(false);
    expect(a3.error).toBe(
      `image "r.example/bad:1" in namespace "team-b" (${DIGEST}) denied by TrustPolicy team-a/prod statement "prod": authenticity failed — the signature's certificate chain does not contain any trusted certificate [ERR_CHAIN_UNTRUSTED]`,
    );
    expect(verifier.calls.map((c) => [c.namespace, c.image]).sort()).toEqual([
      ['gatekeeper-system', 'r.example/good:1'],
      ['team-a', 'r.example/good:1'],
      ['team-b', 'r.example/bad:1'],
    ]);
  });

  it('uses the empty namespace (cluster scope) for bare keys by default', async () => {
    const verifier = new FakeVerifier();
    await call(setup(verifier), 'verify', providerRequest(['r.example/a:1']));
    expect(verifier.calls[0]?.namespace).toBe('');
  });

  it('answers the apiVersion it was asked in', async () => {
    const { body } = await call(setup(), 'verify', providerRequest(['r/a:1'], 'externaldata.gatekeeper.sh/v1alpha1'));
    expect(body.apiVersion).toBe('externaldata.gatekeeper.sh/v1alpha1');
  });

  it('reports an invalid key as an item error and still answers the others', async () => {
    const { body } = await call(setup(), 'verify', providerRequest(['[BAD NS]r/a:1', 'r/b:1']));
    expect(body.response.items[0].error).toMatch(/is not a namespace name .*\[ERR_ADMISSION_INVALID\]/);
    expect(body.response.items[1].value.allowed).toBe(true);
  });

  it('sets systemError (so Gatekeeper does not cache it) when an image could not be decided', async () => {
    const undecided: ImageDecision = {
      image: 'r.example/a:1',
      allowed: false,
      verdicts: [],
      warnings: [],
      error: {
        code: 'ERR_REGISTRY_UNREACHABLE',
        message: 'registry r.example is unreachable',
        failurePolicyApplied: 'fail',
      },
    };
    const { status, body } = await call(
      setup(new FakeVerifier((r) => (r.image === 'r.example/a:1' ? undecided : verifiedDecision(r.image)))),
      'verify',
      providerRequest(['[ns]r.example/a:1', '[ns]r.example/b:1']),
    );
    expect(status).toBe(200);
    expect(body.response.systemError).toBe(
      '1 image(s) could not be decided: image "r.example/a:1" in namespace "ns" could not be verified: registry r.example is unreachable [ERR_REGISTRY_UNREACHABLE]; denied by the failure policy (fail closed)',
    );
    expect(body.response.items).toHaveLength(2);
  });

  it('sets systemError when the deadline passes', async () => {
    const a = setup(new FakeVerifier(() => new Promise<ImageDecision>(() => {})), {
      gatekeeperVerifyTimeoutMs: 200,
      marginMs: 50,
    });
    const { body } = await call(a, 'verify', providerRequest(['r/a:1']));
    expect(body.response.systemError).toContain('[ERR_DEADLINE_EXCEEDED]');
  });

  it.each([
    [
      'a wrong kind',
      { apiVersion: 'externaldata.gatekeeper.sh/v1beta1', kind: 'AdmissionReview', request: { keys: [] } },
      /kind must be "ProviderRequest"/,
    ],
    ['a wrong apiVersion', providerRequest([], 'v1'), /apiVersion must be one of/],
    ['keys not an array', providerRequest('r/a:1'), /request.keys must be an array/],
    ['a key that is not a string', providerRequest([1]), /request.keys\[0\] must be a string/],
  ])('answers 400 with systemError for %s', async (_what, body, message) => {
    const { status, body: res } = await call(setup(), 'verify', body);
    expect(status).toBe(400);
    expect(res.kind).toBe('ProviderResponse');
    expect(res.response.items).toEqual([]);
    expect(res.response.systemError).toMatch(message);
    expect(res.response.systemError).toMatch(/\[ERR_ADMISSION_INVALID\]$/);
  });

  it('answers 400 with systemError for a body that is not JSON, and 413 for one over the limit', async () => {
    const a = setup(new FakeVerifier(), { bodyLimit: 512 });
    const bad = await a.inject({
      method: 'POST',
      url: '/gatekeeper/v1/verify',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().response.systemError).toMatch(/ERR_ADMISSION_INVALID/);
    const big = await call(
      a,
      'verify',
      providerRequest(Array.from({ length: 100 }, (_, i) => `r.example/image-${i}:1`)),
    );
    expect(big.status).toBe(413);
    expect(big.body.response.systemError).toMatch(/\[ERR_BODY_TOO_LARGE\]$/);
  });
});

describe('POST /gatekeeper/v1/mutate', () => {
  it('answers the pinned reference for verified images and the input unchanged otherwise', async () => {
    const decisions: Record<string, ImageDecision> = {
      'r.example/good:1': verifiedDecision('r.example/good:1'),
      'r.example/nopolicy:1': { ...verifiedDecision('r.example/nopolicy:1'), verdicts: [] },
      [`r.example/pinned@${DIGEST}`]: verifiedDecision(`r.example/pinned@${DIGEST}`),
      'r.example/bad:1': deniedDecision('r.example/bad:1'),
    };
    const { body } = await call(
      setup(new FakeVerifier((r) => decisions[r.image] as ImageDecision)),
      'mutate',
      providerRequest([
        'r.example/good:1',
        '[team-a]r.example/nopolicy:1',
        `r.example/pinned@${DIGEST}`,
        'r.example/bad:1',
      ]),
    );
    expect(body.response.idempotent).toBe(true);
    expect(body.response.items).toEqual([
      { key: 'r.example/good:1', value: `r.example/good@${DIGEST}` },
      { key: '[team-a]r.example/nopolicy:1', value: 'r.example/nopolicy:1' },
      { key: `r.example/pinned@${DIGEST}`, value: `r.example/pinned@${DIGEST}` },
      {
        key: 'r.example/bad:1',
        error: expect.stringMatching(
          /^image "r.example\/bad:1" \(sha256:[0-9a-f]{64}\) denied by TrustPolicy team-a\/prod/,
        ),
      },
    ]);
  });

  it('uses the shorter mutate timeout', async () => {
    const verifier = new FakeVerifier();
    const a = setup(verifier, { gatekeeperMutateTimeoutMs: 1000, gatekeeperVerifyTimeoutMs: 3000, marginMs: 100 });
    const before = Date.now();
    await call(a, 'mutate', providerRequest(['r/a:1']));
    await call(a, 'verify', providerRequest(['r/a:1']));
    const [m, v] = verifier.calls.map((c) => c.deadline - before);
    expect(m).toBeGreaterThan(800);
    expect(m).toBeLessThanOrEqual(950);
    expect(v).toBeGreaterThan(2800);
    expect(v).toBeLessThanOrEqual(2950);
  });
});

describe('the gatekeeper request log line', () => {
  it('is capped like the admission review line: 32 items, long keys cut with a marker, the rest counted', async () => {
    const lines: { msg: string; items?: { key: string; error?: string }[]; itemsOmitted?: number }[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    const logger = pino({ level: 'info' }, stream);
    app = buildApp({ verifier: new FakeVerifier((r) => deniedDecision(r.image)), metrics: new NoopMetrics(), logger });
    const keys = Array.from({ length: 1000 }, (_, i) => `r.example/${'k'.repeat(2000)}:${i}`);
    const res = await app.inject({ method: 'POST', url: '/gatekeeper/v1/verify', payload: providerRequest(keys) });
    expect(res.statusCode).toBe(200);
    const line = lines.find((l) => l.msg === 'gatekeeper request');
    expect(JSON.stringify(line).length).toBeLessThan(128 * 1024);
    expect(line?.items).toHaveLength(32);
    expect(line?.itemsOmitted).toBe(1000 - 32);
    expect(line?.items?.[0]?.key).toMatch(/^r\.example\/k+…\[\+\d+ chars\]$/);
    expect(line?.items?.[0]?.error).toBeDefined();
  });
});
