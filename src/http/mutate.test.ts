import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageDecision } from '../executor/types.js';
import { NoopMetrics } from '../metrics/index.js';
import { buildApp } from './app.js';
import { DIGEST, FakeVerifier, UNTRUSTED, deniedDecision, verdict, verifiedDecision } from './testing/fake-verifier.js';
import { admissionReview, pod, workload } from './testing/reviews.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function setup(verifier = new FakeVerifier(), mutate = true) {
  app = buildApp({ verifier, metrics: new NoopMetrics(), options: { mutate } });
  return app;
}

/** Applies RFC 6902 `replace` operations (all /mutate emits) to a copy of `doc`. */
function applyPatch(doc: unknown, ops: { op: string; path: string; value: unknown }[]): any {
  const copy = structuredClone(doc) as any;
  for (const op of ops) {
    expect(op.op).toBe('replace');
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let node = copy;
    for (const p of parts) node = node[p];
    expect(node).toHaveProperty(last);
    node[last] = op.value;
  }
  return copy;
}

async function mutate(a: FastifyInstance, body: Record<string, unknown>) {
  const res = await a.inject({ method: 'POST', url: '/mutate', payload: body });
  expect(res.statusCode).toBe(200);
  const response = res.json().response;
  const patch =
    response.patch === undefined ? undefined : JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
  return { response, patch };
}

describe('POST /mutate', () => {
  it('is off by default', async () => {
    const a = setup(new FakeVerifier(), false);
    const res = await a.inject({
      method: 'POST',
      url: '/mutate',
      payload: admissionReview(pod({ containers: [['a', 'r.example/a:1']] })),
    });
    expect(res.statusCode).toBe(404);
  });

  it('pins the image volumes of a pod (volumes[].image.reference) and of the 1.20 EphemeralContainers kind', async () => {
    const a = setup();
    const object = pod({ containers: [['app', 'registry.example/app:1']] });
    (object.spec as any).volumes = [
      { name: 'cache', emptyDir: {} },
      { name: 'model', image: { reference: 'registry.example/models/llm:v3', pullPolicy: 'IfNotPresent' } },
    ];
    const { response, patch } = await mutate(a, admissionReview(object));
    expect(response.allowed).toBe(true);
    const patched = applyPatch(object, patch);
    expect(patched.spec.volumes[1]).toEqual({
      name: 'model',
      image: { reference: `registry.example/models/llm@${DIGEST}`, pullPolicy: 'IfNotPresent' },
    });
    expect(patched.spec.volumes[0]).toEqual({ name: 'cache', emptyDir: {} });

    const ephemeral = {
      apiVersion: 'v1',
      kind: 'EphemeralContainers',
      metadata: { name: 'web', namespace: 'team-a' },
      ephemeralContainers: [{ name: 'dbg', image: 'registry.example/debug:1' }],
    };
    const second = await mutate(
      a,
      admissionReview(ephemeral, {
        kind: 'EphemeralContainers',
        operation: 'UPDATE',
        subResource: 'ephemeralcontainers',
        oldObject: { ...ephemeral, ephemeralContainers: [] },
      }),
    );
    expect(applyPatch(ephemeral, second.patch).ephemeralContainers[0].image).toBe(`registry.example/debug@${DIGEST}`);
  });

  it('pins every verified tag to its digest with a JSONPatch that applies to the object', async () => {
    const a = setup();
    const object = pod({
      containers: [
        ['app', 'registry.example/team/app:1.2'],
        ['side', 'registry.example/side:3'],
      ],
      initContainers: [['init', 'localhost:5000/init:1']],
    });
    const { response, patch } = await mutate(a, admissionReview(object, { uid: 'm-1' }));
    expect(response.uid).toBe('m-1');
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    const patched = applyPatch(object, patch);
    expect(patched.spec.containers.map((c: any) => c.image)).toEqual([
      `registry.example/team/app@${DIGEST}`,
      `registry.example/side@${DIGEST}`,
    ]);
    expect(patched.spec.initContainers[0].image).toBe(`localhost:5000/init@${DIGEST}`);
    expect(patched.metadata).toEqual(object.metadata);
  });

  it('patches the pod template of a CronJob', async () => {
    const a = setup();
    const object = workload('CronJob', 'batch/v1', { containers: [['app', 'r.example/app:1']] });
    const { patch } = await mutate(a, admissionReview(object, { group: 'batch', kind: 'CronJob' }));
    expect(patch).toEqual([
      {
        op: 'replace',
        path: '/spec/jobTemplate/spec/template/spec/containers/0/image',
        value: `r.example/app@${DIGEST}`,
      },
    ]);
    expect(applyPatch(object, patch).spec.jobTemplate.spec.template.spec.containers[0].image).toBe(
      `r.example/app@${DIGEST}`,
    );
  });

  it('never patches an unverified image: warn mode, no policy, failure policy ignore, a skip statement, or already a digest', async () => {
    const decisions: Record<string, ImageDecision> = {
      'r.example/warn:1': {
        ...verifiedDecision('r.example/warn:1'),
        verdicts: [verdict({ ...UNTRUSTED, enforcementAction: 'warn' })],
      },
      'r.example/nopolicy:1': { ...verifiedDecision('r.example/nopolicy:1'), verdicts: [] },
      'r.example/ignored:1': {
        image: 'r.example/ignored:1',
        allowed: true,
        verdicts: [],
        warnings: [],
        error: { code: 'ERR_REGISTRY_TIMEOUT', message: 'timed out', failurePolicyApplied: 'ignore' },
      },
      [`r.example/digest@${DIGEST}`]: verifiedDecision(`r.example/digest@${DIGEST}`),
      // A `skip` statement admits without checking a signature: nothing was verified to pin.
      'r.example/skipped:1': {
        ...verifiedDecision('r.example/skipped:1'),
        verdicts: [verdict({ skipped: true, message: 'statement level is "skip": signatures are not verified' })],
      },
      'r.example/good:1': verifiedDecision('r.example/good:1'),
    };
    const a = setup(new FakeVerifier((r) => decisions[r.image] as ImageDecision));
    const object = pod({ containers: Object.keys(decisions).map((image, i) => [`c${i}`, image] as const) });
    const { response, patch } = await mutate(a, admissionReview(object));
    expect(response.allowed).toBe(true);
    expect(patch).toEqual([{ op: 'replace', path: '/spec/containers/5/image', value: `r.example/good@${DIGEST}` }]);
  });

  it('denies like /validate and sends no patch when any image is denied', async () => {
    const a = setup(
      new FakeVerifier((r) => (r.image.includes('bad') ? deniedDecision(r.image) : verifiedDecision(r.image))),
    );
    const { response } = await mutate(
      a,
      admissionReview(
        pod({
          containers: [
            ['good', 'r.example/good:1'],
            ['bad', 'r.example/bad:1'],
          ],
        }),
      ),
    );
    expect(response.allowed).toBe(false);
    expect(response.patch).toBeUndefined();
    expect(response.status.code).toBe(403);
    expect(response.status.message).toMatch(
      /^container "bad" image "r.example\/bad:1" \(sha256:[0-9a-f]{64}\) denied by TrustPolicy team-a\/prod statement "prod": authenticity failed/,
    );
  });

  it('on UPDATE pins only the changed images', async () => {
    const a = setup();
    const old = pod({
      containers: [
        ['app', 'r.example/app:1'],
        ['side', 'r.example/side:1'],
      ],
    });
    const now = pod({
      containers: [
        ['app', 'r.example/app:1'],
        ['side', 'r.example/side:2'],
      ],
    });
    const { patch } = await mutate(a, admissionReview(now, { operation: 'UPDATE', oldObject: old }));
    expect(patch).toEqual([{ op: 'replace', path: '/spec/containers/1/image', value: `r.example/side@${DIGEST}` }]);
  });

  it('answers 400 for a malformed review', async () => {
    const a = setup();
    const res = await a.inject({ method: 'POST', url: '/mutate', payload: { apiVersion: 'v1' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('ERR_ADMISSION_INVALID');
  });
});
