import type { FastifyInstance } from 'fastify';
import { inject, type InjectOptions, type Response } from 'light-my-request';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageDecision } from '../../executor/types.js';
import { recordLoggerOf } from '../../log/index.js';
import { NoopMetrics, PromMetrics } from '../../metrics/index.js';
import { buildApp, type AppOptions } from '../app.js';
import {
  DIGEST,
  FakeVerifier,
  UNTRUSTED,
  deniedDecision,
  verdict,
  verifiedDecision,
} from '../testing/fake-verifier.js';
import { admissionReview, pod, workload } from '../testing/reviews.js';
import { reviewEndpoint } from './handler.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function setup(
  verifier = new FakeVerifier(),
  options: AppOptions = {},
  metrics = new NoopMetrics() as NoopMetrics | PromMetrics,
  now?: () => number,
) {
  app = buildApp({ verifier, metrics, options, ...(now === undefined ? {} : { now }) });
  return { app, verifier };
}

/** Requests reach the review endpoint as the HTTPS server hands them over: to fastify's router (`startServer`). */
async function send(a: FastifyInstance, options: InjectOptions): Promise<Response> {
  await a.ready();
  return inject((req, res) => a.routing(req, res), options);
}

async function validate(a: FastifyInstance, body: unknown, url = '/validate') {
  const res = await send(a, { method: 'POST', url, payload: body as object });
  return {
    status: res.statusCode,
    body: res.json() as { apiVersion: string; kind: string; response: any; code?: string; message?: string },
  };
}

describe('POST /validate', () => {
  describe('when a Pod is created', () => {
    it('allows it when every image is verified and echoes the uid', async () => {
      const { app, verifier } = setup();
      const { status, body } = await validate(
        app,
        admissionReview(pod({ containers: [['app', 'registry.example/app:1.2']] }), { uid: 'abc-123' }),
      );
      expect(status).toBe(200);
      expect(body.apiVersion).toBe('admission.k8s.io/v1');
      expect(body.kind).toBe('AdmissionReview');
      expect(body.response).toEqual({ uid: 'abc-123', allowed: true });
      expect(verifier.calls).toEqual([
        {
          image: 'registry.example/app:1.2',
          namespace: 'team-a',
          deadline: expect.any(Number),
          review: expect.any(Object),
        },
      ]);
    });

    it('denies with 403 and a message naming container, image, digest, policy, statement, check, cause and code', async () => {
      const { app } = setup(
        new FakeVerifier((r) => (r.image.includes('bad') ? deniedDecision(r.image) : verifiedDecision(r.image))),
      );
      const { body } = await validate(
        app,
        admissionReview(
          pod({
            containers: [
              ['app', 'registry.example/app:1.2'],
              ['bad', 'registry.example/bad:1'],
              ['ok', 'registry.example/ok:2'],
            ],
          }),
        ),
      );
      expect(body.response.allowed).toBe(false);
      expect(body.response.status).toEqual({
        code: 403,
        reason: 'Forbidden',
        message: `container "bad" image "registry.example/bad:1" (${DIGEST}) denied by TrustPolicy team-a/prod statement "prod": authenticity failed — the signature's certificate chain does not contain any trusted certificate [ERR_CHAIN_UNTRUSTED]\nto see why: portcullis explain --namespace team-a --image registry.example/bad:1`,
      });
    });

    it('writes one line per denied container', async () => {
      const { app } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
      const { body } = await validate(
        app,
        admissionReview(
          pod({
            containers: [
              ['a', 'r.example/a:1'],
              ['b', 'r.example/b:1'],
            ],
          }),
        ),
      );
      const lines = (body.response.status.message as string).split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^container "a" image "r.example\/a:1"/);
      expect(lines[1]).toMatch(/^container "b" image "r.example\/b:1"/);
      // The last line: the explain command for the first denied image.
      expect(lines[2]).toBe('to see why: portcullis explain --namespace team-a --image r.example/a:1');
    });

    it('names every denying policy when several deny', async () => {
      const decision: ImageDecision = {
        ...deniedDecision('r.example/a:1'),
        verdicts: [
          verdict({ ...UNTRUSTED }),
          verdict({
            policy: 'ClusterTrustPolicy baseline',
            statement: 'all',
            verified: false,
            failedCheck: null,
            code: 'ERR_NO_SIGNATURE',
            message: 'no signature is associated with the image',
          }),
        ],
      };
      const { app } = setup(new FakeVerifier(() => decision));
      const { body } = await validate(app, admissionReview(pod({ containers: [['a', 'r.example/a:1']] })));
      expect(body.response.status.message).toContain(
        '; and by ClusterTrustPolicy baseline statement "all": verification failed — no signature is associated with the image [ERR_NO_SIGNATURE]',
      );
    });

    it('says when the failure policy denied an image that could not be verified', async () => {
      const decision: ImageDecision = {
        image: 'r.example/a:1',
        allowed: false,
        verdicts: [],
        warnings: [],
        error: {
          code: 'ERR_REGISTRY_UNREACHABLE',
          message: 'registry r.example is unreachable: connection refused',
          failurePolicyApplied: 'fail',
        },
      };
      const { app } = setup(new FakeVerifier(() => decision));
      const { body } = await validate(app, admissionReview(pod({ containers: [['a', 'r.example/a:1']] })));
      expect(body.response.status.message).toBe(
        'container "a" image "r.example/a:1" could not be verified: registry r.example is unreachable: connection refused [ERR_REGISTRY_UNREACHABLE]; denied by the failure policy (fail closed)\n' +
          'to see why: portcullis explain --namespace team-a --image r.example/a:1',
      );
    });

    it('checks the same image once when several containers use it', async () => {
      const { app, verifier } = setup();
      await validate(
        app,
        admissionReview(
          pod({
            containers: [
              ['a', 'r.example/a:1'],
              ['b', 'r.example/a:1'],
            ],
            initContainers: [['i', 'r.example/a:1']],
          }),
        ),
      );
      expect(verifier.calls).toHaveLength(1);
    });

    it('checks init and ephemeral containers', async () => {
      const { app, verifier } = setup(
        new FakeVerifier((r) => (r.image.endsWith(':eph') ? deniedDecision(r.image) : verifiedDecision(r.image))),
      );
      const { body } = await validate(
        app,
        admissionReview(
          pod({
            containers: [['app', 'r.example/app:1']],
            initContainers: [['init', 'r.example/init:1']],
            ephemeralContainers: [['debug', 'r.example/dbg:eph']],
          }),
        ),
      );
      expect(verifier.calls.map((c) => c.image).sort()).toEqual([
        'r.example/app:1',
        'r.example/dbg:eph',
        'r.example/init:1',
      ]);
      expect(body.response.status.message).toMatch(/^container "debug" image "r.example\/dbg:eph"/);
    });

    it('passes the pull secret names and checks images concurrently', async () => {
      let active = 0;
      let peak = 0;
      const verifier = new FakeVerifier(async (r) => {
        peak = Math.max(peak, ++active);
        await new Promise((resolve) => setTimeout(resolve, 20));
        active--;
        return verifiedDecision(r.image);
      });
      const { app } = setup(verifier);
      await validate(
        app,
        admissionReview(
          pod({
            containers: [
              ['a', 'r.example/a:1'],
              ['b', 'r.example/b:1'],
              ['c', 'r.example/c:1'],
            ],
            imagePullSecrets: ['regcred', 'other'],
          }),
        ),
      );
      expect(peak).toBe(3);
      expect(verifier.calls[0]?.pullSecretNames).toEqual(['regcred', 'other']);
    });

    it('asks the verifier about a container without an image (only it knows whether a policy covers the namespace)', async () => {
      const { app, verifier } = setup(
        new FakeVerifier((r) =>
          r.image === ''
            ? {
                image: '',
                allowed: false,
                verdicts: [],
                warnings: [],
                reason: 'no image is named, so nothing can be verified [ERR_REF_INVALID]',
              }
            : verifiedDecision(r.image),
        ),
      );
      const object = pod({ containers: [['a', 'r.example/a:1']] });
      ((object.spec as any).containers as any[]).push({ name: 'empty' });
      const { body } = await validate(app, admissionReview(object));
      expect(body.response.allowed).toBe(false);
      expect(body.response.status.message).toBe(
        'container "empty" image "" denied: no image is named, so nothing can be verified [ERR_REF_INVALID]\n' +
          'to see why: portcullis explain --namespace team-a -f POD.yaml',
      );
      expect(verifier.calls.map((c) => c.image)).toEqual(['r.example/a:1', '']);
    });
  });

  describe('when the object is a workload', () => {
    it.each([
      ['apps', 'Deployment', 'apps/v1', '/spec/template/spec'],
      ['apps', 'ReplicaSet', 'apps/v1', '/spec/template/spec'],
      ['apps', 'StatefulSet', 'apps/v1', '/spec/template/spec'],
      ['apps', 'DaemonSet', 'apps/v1', '/spec/template/spec'],
      ['batch', 'Job', 'batch/v1', '/spec/template/spec'],
      ['batch', 'CronJob', 'batch/v1', '/spec/jobTemplate/spec/template/spec'],
      ['', 'ReplicationController', 'v1', '/spec/template/spec'],
    ])('checks the pod template of a %s/%s', async (group, kind, apiVersion) => {
      const { app, verifier } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
      const object = workload(kind, apiVersion, {
        containers: [['app', 'r.example/app:1']],
        initContainers: [['init', 'r.example/init:1']],
        imagePullSecrets: ['regcred'],
      });
      const { body } = await validate(app, admissionReview(object, { group, kind }));
      expect(verifier.calls.map((c) => c.image).sort()).toEqual(['r.example/app:1', 'r.example/init:1']);
      expect(verifier.calls[0]?.pullSecretNames).toEqual(['regcred']);
      expect(body.response.allowed).toBe(false);
    });

    it('does not take a Deployment of another API group for an apps Deployment', async () => {
      const { app, verifier } = setup();
      const { status, body } = await validate(
        app,
        admissionReview(workload('Deployment', 'example.com/v1', { containers: [['a', 'r/a:1']] }), {
          group: 'example.com',
          kind: 'Deployment',
        }),
      );
      expect(verifier.calls).toHaveLength(0);
      expect(status).toBe(200);
      expect(body.response.allowed).toBe(true);
      expect(body.response.warnings[0]).toMatch(
        /^Portcullis does not check Deployment \(deployments, group example\.com\).*remove deployments from its rules \[ERR_UNSUPPORTED_KIND\]$/,
      );
    });
  });

  describe('when a Pod is updated', () => {
    it('checks only images that changed, matched by container name', async () => {
      const { app, verifier } = setup();
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
          ['new', 'r.example/app:1'],
        ],
      });
      await validate(app, admissionReview(now, { operation: 'UPDATE', oldObject: old }));
      expect(verifier.calls.map((c) => c.image).sort()).toEqual(['r.example/app:1', 'r.example/side:2']);
    });

    it('allows a workload update that changes no image without any check (a scale-down)', async () => {
      const { app, verifier } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
      const old = workload('Deployment', 'apps/v1', { containers: [['app', 'r.example/app:1']] });
      const now = workload('Deployment', 'apps/v1', { containers: [['app', 'r.example/app:1']] });
      (now.spec as any).replicas = 0;
      const { body } = await validate(
        app,
        admissionReview(now, { group: 'apps', kind: 'Deployment', operation: 'UPDATE', oldObject: old }),
      );
      expect(body.response).toEqual({ uid: expect.any(String), allowed: true });
      expect(verifier.calls).toHaveLength(0);
    });

    it('checks only the new ephemeral container on the pods/ephemeralcontainers subresource', async () => {
      const { app, verifier } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
      const old = pod({ containers: [['app', 'r.example/app:1']] });
      const now = pod({
        containers: [['app', 'r.example/app:1']],
        ephemeralContainers: [['debugger', 'busybox:1.36']],
      });
      const { body } = await validate(
        app,
        admissionReview(now, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: old }),
      );
      expect(verifier.calls.map((c) => c.image)).toEqual(['busybox:1.36']);
      expect(body.response.status.message).toMatch(/^container "debugger" image "busybox:1.36"/);
    });
  });

  describe('when policies warn', () => {
    it('allows with a warning for a warn-mode policy and for checks set to log', async () => {
      const decision: ImageDecision = {
        ...verifiedDecision('r.example/a:1'),
        verdicts: [
          verdict(),
          verdict({
            ...UNTRUSTED,
            policy: 'TrustPolicy team-a/canary',
            statement: 'canary',
            enforcementAction: 'warn',
          }),
        ],
        warnings: ['revocation check logged: the OCSP responder could not be reached [ERR_REVOCATION_UNKNOWN]'],
      };
      const { app } = setup(new FakeVerifier(() => decision));
      const { body } = await validate(app, admissionReview(pod({ containers: [['a', 'r.example/a:1']] })));
      expect(body.response.allowed).toBe(true);
      expect(body.response.warnings).toEqual([
        `container "a" image "r.example/a:1": TrustPolicy team-a/canary statement "canary" (warn mode, allowed): authenticity failed [ERR_CHAIN_UNTRUSTED] — the signature's certificate chain does not contain any trusted certificate`,
        'container "a" image "r.example/a:1": revocation check logged: the OCSP responder could not be reached [ERR_REVOCATION_UNKNOWN]',
      ]);
    });

    it('keeps each warning within 256 characters and without control characters', async () => {
      const decision: ImageDecision = {
        ...verifiedDecision('r.example/a:1'),
        warnings: [`line one\nline two ${'x'.repeat(500)}`],
      };
      const { app } = setup(new FakeVerifier(() => decision));
      const { body } = await validate(app, admissionReview(pod({ containers: [['a', 'r.example/a:1']] })));
      const [w] = body.response.warnings as string[];
      expect(Array.from(w as string)).toHaveLength(256);
      expect(w).toMatch(/…$/);
      expect(w).not.toMatch(/\n/);
    });

    it('keeps the total of warnings within 4 KiB and says how many were left out', async () => {
      const { app } = setup(
        new FakeVerifier((r) => ({ ...verifiedDecision(r.image), warnings: [`warning ${'y'.repeat(200)}`] })),
      );
      const containers = Array.from({ length: 40 }, (_, i) => [`c${i}`, `r.example/img${i}:1`] as const);
      const { body } = await validate(app, admissionReview(pod({ containers })));
      const warnings = body.response.warnings as string[];
      expect(warnings.join('').length).toBeLessThanOrEqual(4096);
      expect(warnings.at(-1)).toMatch(/more warning\(s\) not shown/);
    });
  });

  describe('when the request is a dry run', () => {
    it('decides as usual and tells the verifier it is a dry run', async () => {
      const { app, verifier } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
      const { body } = await validate(
        app,
        admissionReview(pod({ containers: [['a', 'r.example/a:1']] }), { dryRun: true }),
      );
      expect(body.response.allowed).toBe(false);
      expect(verifier.calls[0]?.dryRun).toBe(true);
    });
  });

  describe('when the kind or operation is not one Portcullis checks', () => {
    it('allows an unknown kind unchecked, with a warning naming the webhook rule to fix', async () => {
      const { app, verifier } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
      const review = admissionReview(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { image: 'evil/x:1' } },
        { kind: 'ConfigMap', uid: 'u-9' },
      );
      const { status, body } = await validate(app, review);
      expect(status).toBe(200);
      expect(body.response).toEqual({
        uid: 'u-9',
        allowed: true,
        warnings: [
          'Portcullis does not check ConfigMap (configmaps, group core); allowed unchecked. Fix the webhook configuration: remove configmaps from its rules [ERR_UNSUPPORTED_KIND]',
        ],
      });
      expect(verifier.calls).toHaveLength(0);
    });

    it('allows a custom resource, even a malformed-looking one, without reading its object', async () => {
      const { app } = setup();
      const review = admissionReview('not an object at all', {
        group: 'example.com',
        version: 'v1alpha1',
        kind: 'Widget',
      });
      (review.request as any).resource = { group: 'example.com', version: 'v1alpha1', resource: 'widgets' };
      const { status, body } = await validate(app, review);
      expect(status).toBe(200);
      expect(body.response.allowed).toBe(true);
      expect(body.response.warnings[0]).toContain('remove widgets from its rules');
      expect(body.response.warnings[0]).toContain('group example.com');
    });

    it('allows another subresource of a Pod with a warning naming the rule', async () => {
      const { app } = setup();
      const review = admissionReview(pod({ containers: [['a', 'r/a:1']] }), {
        operation: 'UPDATE',
        subResource: 'status',
      });
      const { body } = await validate(app, review);
      expect(body.response.allowed).toBe(true);
      expect(body.response.warnings[0]).toBe(
        'Portcullis does not check the status subresource (pods/status, group core); allowed unchecked. Fix the webhook configuration: remove pods/status from its rules [ERR_UNSUPPORTED_KIND]',
      );
    });

    it.each(['DELETE', 'CONNECT'] as const)(
      'allows %s of anything without checks, with a warning naming the operation and rule',
      async (operation) => {
        const { app, verifier } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
        for (const [object, opts] of [
          [null, { operation, oldObject: pod({ containers: [['a', 'r/a:1']] }) }],
          [{ kind: 'Widget' }, { operation, kind: 'Widget', group: 'example.com' }],
        ] as const) {
          const { status, body } = await validate(app, admissionReview(object, opts));
          expect(status).toBe(200);
          expect(body.response.allowed).toBe(true);
          expect(body.response.warnings[0]).toMatch(
            new RegExp(
              `^Portcullis checks only CREATE and UPDATE, not ${operation} of \\w+; allowed unchecked\\. Fix the webhook configuration: remove ${operation} from its rule for \\w+ \\(group [\\w.]+\\) \\[ERR_UNSUPPORTED_KIND\\]$`,
            ),
          );
        }
        expect(verifier.calls).toHaveLength(0);
      },
    );

    it('still answers 400 for a malformed review of an unknown kind', async () => {
      const { app } = setup();
      const review = admissionReview({}, { kind: 'ConfigMap' });
      (review.request as any).uid = 42;
      const { status, body } = await validate(app, review);
      expect(status).toBe(400);
      expect(body.code).toBe('ERR_ADMISSION_INVALID');
    });
  });

  describe('when Kubernetes 1.20 sends the EphemeralContainers kind (kubectl debug)', () => {
    // What a 1.20 API server sends for pods/ephemeralcontainers: kind v1 EphemeralContainers,
    // the object holding only the pod's metadata and its ephemeral containers.
    const ephemeral = (containers: [string, string][]) => ({
      apiVersion: 'v1',
      kind: 'EphemeralContainers',
      metadata: { name: 'web', namespace: 'team-a' },
      ephemeralContainers: containers.map(([name, image]) => ({
        name,
        image,
        targetContainerName: 'app',
        terminationMessagePolicy: 'File',
      })),
    });

    it('checks the image of the new ephemeral container', async () => {
      const { app, verifier } = setup(new FakeVerifier((r) => deniedDecision(r.image)));
      const review = admissionReview(ephemeral([['debugger', 'busybox:1.36']]), {
        kind: 'EphemeralContainers',
        operation: 'UPDATE',
        subResource: 'ephemeralcontainers',
        oldObject: ephemeral([]),
      });
      (review.request as any).resource = { group: '', version: 'v1', resource: 'pods' };
      const { body } = await validate(app, review);
      expect(verifier.calls.map((c) => c.image)).toEqual(['busybox:1.36']);
      expect(body.response.allowed).toBe(false);
      expect(body.response.status.message).toMatch(/^container "debugger" image "busybox:1.36"/);
    });

    it('checks only ephemeral containers that are new', async () => {
      const { app, verifier } = setup();
      const review = admissionReview(
        ephemeral([
          ['old', 'busybox:1'],
          ['new', 'alpine:3'],
        ]),
        {
          kind: 'EphemeralContainers',
          operation: 'UPDATE',
          subResource: 'ephemeralcontainers',
          oldObject: ephemeral([['old', 'busybox:1']]),
        },
      );
      const { body } = await validate(app, review);
      expect(body.response.allowed).toBe(true);
      expect(verifier.calls.map((c) => c.image)).toEqual(['alpine:3']);
    });
  });

  describe('when a Pod mounts image volumes (ImageVolume, Kubernetes 1.31+)', () => {
    // core/v1 Volume with an ImageVolumeSource, as in the Kubernetes API reference.
    const withVolumes = (volumes: unknown[]) => {
      const object = pod({ containers: [['app', 'r.example/app:1']] });
      (object.spec as any).volumes = volumes;
      return object;
    };

    it('checks volumes[].image.reference like a container image', async () => {
      const { app, verifier } = setup(
        new FakeVerifier((r) => (r.image.includes('model') ? deniedDecision(r.image) : verifiedDecision(r.image))),
      );
      const object = withVolumes([
        { name: 'config', configMap: { name: 'cfg' } },
        { name: 'model', image: { reference: 'r.example/model:v2', pullPolicy: 'IfNotPresent' } },
      ]);
      const { body } = await validate(app, admissionReview(object));
      expect(verifier.calls.map((c) => c.image)).toEqual(['r.example/app:1', 'r.example/model:v2']);
      expect(body.response.allowed).toBe(false);
      expect(body.response.status.message).toMatch(
        /^volume "model" image "r.example\/model:v2" \(sha256:[0-9a-f]{64}\) denied by TrustPolicy team-a\/prod/,
      );
    });

    it('checks the image volumes of a workload template', async () => {
      const { app, verifier } = setup();
      const object = workload('Deployment', 'apps/v1', { containers: [['app', 'r.example/app:1']] });
      (object as any).spec.template.spec.volumes = [{ name: 'data', image: { reference: 'r.example/data:1' } }];
      await validate(app, admissionReview(object, { group: 'apps', kind: 'Deployment' }));
      expect(verifier.calls.map((c) => c.image)).toEqual(['r.example/app:1', 'r.example/data:1']);
    });

    it('on UPDATE checks only volumes whose reference changed', async () => {
      const { app, verifier } = setup();
      const old = withVolumes([
        { name: 'a', image: { reference: 'r.example/a:1' } },
        { name: 'b', image: { reference: 'r.example/b:1' } },
      ]);
      const now = withVolumes([
        { name: 'a', image: { reference: 'r.example/a:1' } },
        { name: 'b', image: { reference: 'r.example/b:2' } },
      ]);
      await validate(app, admissionReview(now, { operation: 'UPDATE', oldObject: old }));
      expect(verifier.calls.map((c) => c.image)).toEqual(['r.example/b:2']);
    });

    it.each([
      ['volumes not an array', { a: 1 }, /request.object.spec.volumes must be an array/],
      ['image not an object', [{ name: 'v', image: 'r/x:1' }], /volumes\[0\].image must be an object/],
      [
        'reference not a string',
        [{ name: 'v', image: { reference: 7 } }],
        /volumes\[0\].image.reference must be a string/,
      ],
    ])('answers 400 for %s', async (_what, volumes, message) => {
      const { app } = setup();
      const { status, body } = await validate(app, admissionReview(withVolumes(volumes as unknown[])));
      expect(status).toBe(400);
      expect(body.message).toMatch(message);
    });
  });

  describe('when the body is malformed', () => {
    it('answers 400 for a body that is not JSON', async () => {
      const { app } = setup();
      const res = await send(app, {
        method: 'POST',
        url: '/validate',
        headers: { 'content-type': 'application/json' },
        payload: '{"apiVersion": ',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'ERR_ADMISSION_INVALID' });
    });

    it.each([
      [
        'a wrong apiVersion',
        { ...admissionReview(pod({})), apiVersion: 'admission.k8s.io/v1beta1' },
        /apiVersion must be "admission.k8s.io\/v1"/,
      ],
      ['a wrong kind', { ...admissionReview(pod({})), kind: 'Pod' }, /kind must be "AdmissionReview"/],
      ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request must be an object/],
      ['an array', [], /the body must be a JSON object, not an array/],
      [
        'a number uid',
        admissionReview(pod({}), { uid: 7 as unknown as string }),
        /request.uid must be a string, not a number/,
      ],
      [
        'containers not an array',
        admissionReview({ spec: { containers: {} } }),
        /request.object.spec.containers must be an array/,
      ],
      [
        'an image that is not a string',
        admissionReview({ spec: { containers: [{ name: 'a', image: 3 }] } }),
        /containers\[0\].image must be a string/,
      ],
      [
        'a string dryRun',
        (() => {
          const r = admissionReview(pod({}));
          (r.request as any).dryRun = 'yes';
          return r;
        })(),
        /dryRun must be a boolean/,
      ],
    ])('answers 400 with a precise message for %s', async (_what, body, message) => {
      const { app } = setup();
      const { status, body: res } = await validate(app, body);
      expect(status).toBe(400);
      expect(res.code).toBe('ERR_ADMISSION_INVALID');
      expect(res.message).toMatch(message);
    });

    it('answers 415 for a body that is not JSON by content type', async () => {
      const { app } = setup();
      const res = await send(app, {
        method: 'POST',
        url: '/validate',
        headers: { 'content-type': 'application/xml' },
        payload: '<hello/>',
      });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({ code: 'ERR_ADMISSION_INVALID' });
    });

    it('answers 413 for a body over the limit', async () => {
      const { app } = setup(new FakeVerifier(), { bodyLimit: 1024 });
      const object = pod({ containers: [['a', 'r/a:1']] });
      (object.metadata as any).annotations = { big: 'x'.repeat(2048) };
      const { status, body } = await validate(app, admissionReview(object));
      expect(status).toBe(413);
      expect(body.code).toBe('ERR_BODY_TOO_LARGE');
    });

    it('ignores __proto__ keys instead of failing', async () => {
      const { app } = setup();
      const json = JSON.stringify(admissionReview(pod({ containers: [['a', 'r/a:1']] }))).replace(
        '"metadata":{',
        '"metadata":{"__proto__":{"polluted":true},',
      );
      const res = await send(app, {
        method: 'POST',
        url: '/validate',
        headers: { 'content-type': 'application/json' },
        payload: json,
      });
      expect(res.statusCode).toBe(200);
      expect(({} as any).polluted).toBeUndefined();
    });
  });

  describe('deadlines', () => {
    it('uses ?timeout= from the API server when shorter than the configured timeout, minus the margin', async () => {
      const t0 = 1_000_000;
      const { app, verifier } = setup(
        new FakeVerifier(),
        { webhookTimeoutMs: 10_000, marginMs: 1_000 },
        new NoopMetrics(),
        () => t0,
      );
      await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })), '/validate?timeout=5s');
      expect(verifier.calls[0]?.deadline).toBe(t0 + 4_000);
      await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })), '/validate?timeout=30s');
      expect(verifier.calls[1]?.deadline).toBe(t0 + 9_000);
      await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })), '/validate');
      expect(verifier.calls[2]?.deadline).toBe(t0 + 9_000);
      await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })), '/validate?timeout=1s');
      expect(verifier.calls[3]?.deadline).toBe(t0 + 500);
    });

    it('answers by the deadline when the verifier is stuck, failing closed with the reason', async () => {
      const { app } = setup(new FakeVerifier(() => new Promise<ImageDecision>(() => {})), {
        webhookTimeoutMs: 300,
        marginMs: 100,
      });
      const started = Date.now();
      const { body } = await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(body.response.allowed).toBe(false);
      expect(body.response.status.message).toBe(
        'container "a" image "r/a:1" could not be verified: no decision within the 200 ms request deadline [ERR_DEADLINE_EXCEEDED]; denied by the failure policy (fail closed)\n' +
          'to see why: portcullis explain --namespace team-a --image r/a:1',
      );
    });

    it('admits with a warning on a stuck verifier when the failure policy is ignore', async () => {
      const { app } = setup(new FakeVerifier(() => new Promise<ImageDecision>(() => {}), true, 'ignore'), {
        webhookTimeoutMs: 300,
        marginMs: 100,
      });
      const { body } = await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })));
      expect(body.response.allowed).toBe(true);
      expect(body.response.warnings[0]).toContain('allowed by the failure policy (ignore)');
    });

    it('asks the verifier once per distinct image, taking what it decides at once and waiting only for the rest', async () => {
      const verifier = new FakeVerifier((r) => {
        if (r.image.endsWith(':boom')) throw new Error('boom');
        return r.image.endsWith(':cached') ? verifiedDecision(r.image) : Promise.resolve(verifiedDecision(r.image));
      });
      const { app } = setup(verifier);
      const { body } = await validate(
        app,
        admissionReview(
          pod({
            containers: [
              ['a', 'r/a:cached'],
              ['b', 'r/b:1'],
              ['c', 'r/c:boom'],
              ['d', 'r/a:cached'],
            ],
          }),
        ),
      );
      expect(body.response.allowed).toBe(false);
      // One walk per distinct image; the one that threw is undecided (failing closed), not a crash.
      expect(verifier.calls.map((c) => c.image)).toEqual(['r/a:cached', 'r/b:1', 'r/c:boom']);
      expect(body.response.status.message).toBe(
        'container "c" image "r/c:boom" could not be verified: the verifier failed unexpectedly: boom [ERR_INTERNAL]; denied by the failure policy (fail closed)\n' +
          'to see why: portcullis explain --namespace team-a --image r/c:boom',
      );
    });

    it('answers a review whose every image is decided at once without a promise', () => {
      const deps = {
        verifier: new FakeVerifier(),
        metrics: new NoopMetrics(),
        webhookTimeoutMs: 10_000,
        marginMs: 100,
        now: Date.now,
        log: pino({ level: 'silent' }),
        reviewLog: recordLoggerOf(pino({ level: 'silent' })),
      };
      const endpoint = reviewEndpoint('validate', deps);
      const answer = endpoint.handle(admissionReview(pod({ containers: [['a', 'r/a:1']] })), undefined);
      expect(answer).not.toBeInstanceOf(Promise);
      expect(JSON.parse((answer as { payload: string }).payload).response.allowed).toBe(true);
    });

    it('gives the images of one review one review token (their shared limits), and each review its own', async () => {
      const { app, verifier } = setup();
      await validate(
        app,
        admissionReview(
          pod({
            containers: [
              ['a', 'r/a:1'],
              ['b', 'r/b:1'],
              ['c', 'r/a:1'],
            ],
          }),
        ),
      );
      await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })));
      const [a, b, again] = verifier.calls;
      expect(a?.review).toBeDefined();
      expect(b?.review).toBe(a?.review);
      expect(again?.review).not.toBe(a?.review);
    });

    it('treats a verifier that throws as undecided, not as a crash', async () => {
      const { app } = setup(new FakeVerifier(() => Promise.reject(new Error('boom'))));
      const { status, body } = await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })));
      expect(status).toBe(200);
      expect(body.response.status.message).toContain('the verifier failed unexpectedly: boom [ERR_INTERNAL]');
    });
  });

  describe('metrics', () => {
    it('counts decisions by result, kind and operation', async () => {
      const metrics = new PromMetrics({ processMetrics: false });
      const { app } = setup(
        new FakeVerifier((r) => (r.image.includes('bad') ? deniedDecision(r.image) : verifiedDecision(r.image))),
        {},
        metrics,
      );
      await validate(app, admissionReview(pod({ containers: [['a', 'r/a:1']] })));
      await validate(app, admissionReview(pod({ containers: [['a', 'r/bad:1']] })));
      await validate(app, { nope: true });
      const text = await (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toContain(
        'portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="Pod",operation="CREATE"} 1',
      );
      expect(text).toContain(
        'portcullis_admission_decisions_total{endpoint="validate",result="denied",kind="Pod",operation="CREATE"} 1',
      );
      expect(text).toContain(
        'portcullis_admission_decisions_total{endpoint="validate",result="error",kind="unknown",operation="unknown"} 1',
      );
      expect(text).toContain('portcullis_image_decisions_total{endpoint="validate",result="denied"} 1');
      expect(text).toMatch(/portcullis_request_duration_seconds_count\{endpoint="validate"\} 3/);
      expect(text).toContain('portcullis_requests_in_flight{endpoint="validate"} 0');
    });
  });
});
