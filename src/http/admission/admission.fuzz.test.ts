import fc from 'fast-check';
import { inject } from 'light-my-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteMutation, fuzz, fuzzTimeout, jsonMutation, mutateBytes, mutateJson } from '../../../test/helpers/fuzz.js';
import {
  decideReview,
  type ImageCheckRequest,
  type ImageDecision,
  type ImageVerifier,
  type ReviewDecisions,
  type ReviewRequest,
} from '../../executor/index.js';
import { NoopMetrics } from '../../metrics/index.js';
import { buildApp } from '../app.js';
import { deniedDecision, verifiedDecision } from '../testing/fake-verifier.js';

/**
 * Random and mutated AdmissionReviews through the review endpoint (fastify's router, as the HTTPS
 * server uses). Whatever arrives: no crash, no 5xx, an answer in bounded time, and never an
 * allow unless the request is one the webhook does not handle (and says so) or every image the
 * object asks to run — found by an oracle written from the Kubernetes API, not from the
 * extractor — is one the verifier allows.
 */

const GOOD = ['r.example/good:1', 'r.example/good@sha256:' + 'a'.repeat(64), 'good.example:5000/team/app:2'];
const BAD = [
  'r.example/bad:1',
  'evil.example/x:1',
  'r.example/GOOD:1',
  ' r.example/good:1',
  'r.example/good:1 ',
  '',
  'r.example/good:1@sha256:' + 'b'.repeat(64),
];

/** Allows exactly GOOD; answers some at once, others later, to cover both paths. */
class ListVerifier implements ImageVerifier {
  #decide(image: string): ImageDecision {
    return GOOD.includes(image) ? verifiedDecision(image) : deniedDecision(image);
  }
  decide(review: ReviewRequest): ReviewDecisions | Promise<ReviewDecisions> {
    return decideReview(
      review,
      (request: ImageCheckRequest) =>
        request.image.length % 2 === 0
          ? this.#decide(request.image)
          : new Promise<ImageDecision>((resolve) => setImmediate(() => resolve(this.#decide(request.image)))),
      'fail',
      Date.now,
    );
  }
  ready(): boolean {
    return true;
  }
}

// --- the oracle: what Kubernetes says a request asks to run ------------------------------------

type Lists = readonly ('containers' | 'initContainers' | 'ephemeralContainers')[];
const ALL: Lists = ['containers', 'initContainers', 'ephemeralContainers'];
const TEMPLATE = ['spec', 'template', 'spec'];
/** group/Kind → where its pod spec is (core/v1, apps/v1, batch/v1 API reference). */
const KINDS: Record<string, { path: readonly string[]; lists: Lists; volumes: boolean }> = {
  '/Pod': { path: ['spec'], lists: ALL, volumes: true },
  '/EphemeralContainers': { path: [], lists: ['ephemeralContainers'], volumes: false },
  '/ReplicationController': { path: TEMPLATE, lists: ALL, volumes: true },
  'apps/Deployment': { path: TEMPLATE, lists: ALL, volumes: true },
  'apps/ReplicaSet': { path: TEMPLATE, lists: ALL, volumes: true },
  'apps/StatefulSet': { path: TEMPLATE, lists: ALL, volumes: true },
  'apps/DaemonSet': { path: TEMPLATE, lists: ALL, volumes: true },
  'batch/Job': { path: TEMPLATE, lists: ALL, volumes: true },
  'batch/CronJob': { path: ['spec', 'jobTemplate', ...TEMPLATE], lists: ALL, volumes: true },
};

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const get = (v: unknown, key: string): unknown => {
  const o = obj(v);
  return o !== undefined && Object.hasOwn(o, key) ? o[key] : undefined;
};

/** slot (`c:name` / `v:name`) → image, of everything the object would run; undefined when unreadable. */
function imagesOf(object: unknown, kind: (typeof KINDS)[string]): Map<string, string>[] | undefined {
  let spec: unknown = object;
  for (const key of kind.path) {
    spec = get(spec, key);
    if (spec === undefined || spec === null) return [];
  }
  if (obj(spec) === undefined) return undefined;
  const out: Map<string, string>[] = [];
  for (const list of kind.lists) {
    const items = get(spec, list);
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) return undefined;
    for (const item of items) {
      const name = get(item, 'name');
      const image = get(item, 'image');
      if (
        obj(item) === undefined ||
        typeof name !== 'string' ||
        (image !== undefined && image !== null && typeof image !== 'string')
      )
        return undefined;
      out.push(new Map([[`c:${name}`, typeof image === 'string' ? image : '']]));
    }
  }
  if (kind.volumes) {
    const volumes = get(spec, 'volumes');
    if (volumes !== undefined && volumes !== null) {
      if (!Array.isArray(volumes)) return undefined;
      for (const v of volumes) {
        if (obj(v) === undefined) return undefined;
        const source = get(v, 'image');
        if (source === undefined || source === null) continue;
        const name = get(v, 'name');
        const ref = get(source, 'reference');
        if (
          obj(source) === undefined ||
          typeof name !== 'string' ||
          (ref !== undefined && ref !== null && typeof ref !== 'string')
        )
          return undefined;
        out.push(new Map([[`v:${name}`, typeof ref === 'string' ? ref : '']]));
      }
    }
  }
  return out;
}

type Verdict =
  | { readonly handled: false }
  | { readonly handled: true; readonly images: readonly string[] }
  | { readonly handled: true; readonly unreadable: true };

function oracle(body: unknown): Verdict {
  const request = get(body, 'request');
  const gvk = get(request, 'kind');
  const operation = get(request, 'operation');
  const subResource = get(request, 'subResource') ?? '';
  const key = `${String(get(gvk, 'group') ?? '')}/${String(get(gvk, 'kind'))}`;
  const kind = KINDS[key];
  const ephemeral = subResource === 'ephemeralcontainers' && (key === '/Pod' || key === '/EphemeralContainers');
  if ((operation !== 'CREATE' && operation !== 'UPDATE') || kind === undefined || (subResource !== '' && !ephemeral))
    return { handled: false };
  const now = imagesOf(get(request, 'object'), kind);
  if (now === undefined) return { handled: true, unreadable: true };
  let old: Map<string, string> = new Map();
  if (operation === 'UPDATE' && obj(get(request, 'oldObject')) !== undefined) {
    const before = imagesOf(get(request, 'oldObject'), kind);
    old = new Map((before ?? []).flatMap((m) => [...m]));
  }
  // On UPDATE an image already running under the same container (or volume) name is not new.
  const images = now
    .flatMap((m) => [...m])
    .filter(([slot, image]) => old.get(slot) !== image)
    .map(([, image]) => image);
  return { handled: true, images };
}

// --- generators ----------------------------------------------------------------------------------

const image = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...GOOD) },
  { weight: 2, arbitrary: fc.constantFrom(...BAD) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const name = fc.oneof(fc.constantFrom('app', 'side', 'init', 'debug', 'data'), fc.string({ maxLength: 8 }));
const container = fc.record(
  { name, image, imagePullPolicy: fc.constantFrom('Always', 'IfNotPresent') },
  { requiredKeys: ['name'] },
);
const volume = fc.oneof(
  fc.record({
    name,
    image: fc.record({ reference: image, pullPolicy: fc.constantFrom('Always', 'IfNotPresent') }, { requiredKeys: [] }),
  }),
  fc.record({ name, emptyDir: fc.constant({}) }),
  fc.record({ name, configMap: fc.record({ name: fc.constant('cfg') }) }),
);
const podSpec = fc.record(
  {
    containers: fc.array(container, { maxLength: 4 }),
    initContainers: fc.array(container, { maxLength: 2 }),
    ephemeralContainers: fc.array(container, { maxLength: 2 }),
    volumes: fc.array(volume, { maxLength: 3 }),
    imagePullSecrets: fc.array(fc.record({ name: fc.constantFrom('regcred', '') }), { maxLength: 2 }),
    serviceAccountName: fc.constantFrom('default', 'builder'),
  },
  { requiredKeys: ['containers'] },
);
const kindKey = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...Object.keys(KINDS)) },
  { weight: 1, arbitrary: fc.constantFrom('/ConfigMap', 'example.com/Widget', 'apps/Pod', '/Deployment', 'batch/Pod') },
);

function objectFor(key: string, spec: Record<string, unknown>): Record<string, unknown> {
  const [group, kind] = key.split('/') as [string, string];
  const apiVersion = group === '' ? 'v1' : `${group}/v1`;
  const metadata = { name: 'demo', namespace: 'team-a' };
  const k = KINDS[key];
  if (k === undefined || k.path.length === 0) return { apiVersion, kind, metadata, ...spec };
  let node: Record<string, unknown> = spec;
  for (const part of [...k.path].reverse()) node = { [part]: node };
  return { apiVersion, kind, metadata, ...node };
}

const review = fc
  .record({
    key: kindKey,
    spec: podSpec,
    oldSpec: fc.option(podSpec, { nil: undefined }),
    operation: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('CREATE', 'UPDATE') },
      { weight: 1, arbitrary: fc.constantFrom('DELETE', 'CONNECT', 'BOGUS', 'create') },
    ),
    subResource: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('ephemeralcontainers', 'status', 'scale', '') },
    ),
    namespace: fc.constantFrom('team-a', '', undefined),
    uid: fc.uuid(),
  })
  .map(({ key, spec, oldSpec, operation, subResource, namespace, uid }) => {
    const [group, kind] = key.split('/') as [string, string];
    return {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group, version: 'v1', kind },
        resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
        ...(subResource === undefined ? {} : { subResource }),
        ...(namespace === undefined ? {} : { namespace }),
        operation,
        object: objectFor(key, spec),
        oldObject: oldSpec === undefined ? null : objectFor(key, oldSpec),
        dryRun: false,
      },
    };
  });

// --- the properties ------------------------------------------------------------------------------

let app: ReturnType<typeof buildApp>;
beforeAll(async () => {
  app = buildApp({ verifier: new ListVerifier(), metrics: new NoopMetrics(), options: { mutate: true } });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

async function post(path: string, payload: string | Buffer): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await inject((req, res) => app.routing(req, res), {
    method: 'POST',
    url: `${path}?timeout=10s`,
    headers: { 'content-type': 'application/json' },
    payload,
  });
  const ms = performance.now() - started;
  let body: unknown;
  try {
    body = res.json();
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, ms };
}

function check(input: unknown, answer: { status: number; body: any; ms: number }): void {
  expect([200, 400]).toContain(answer.status);
  expect(answer.body, 'every answer is JSON').toBeDefined();
  expect(answer.ms).toBeLessThan(2_000);
  if (answer.status !== 200) {
    expect(answer.body.code).toBe('ERR_ADMISSION_INVALID');
    return;
  }
  const response = answer.body.response;
  expect(response.uid).toBe(get(get(input, 'request'), 'uid'));
  if (!response.allowed) return;
  const verdict = oracle(input);
  if (!verdict.handled) {
    expect((response.warnings as string[]).join('\n')).toContain('[ERR_UNSUPPORTED_KIND]');
    return;
  }
  expect('unreadable' in verdict, 'an object the oracle cannot read is never allowed').toBe(false);
  if ('images' in verdict)
    for (const i of verdict.images) expect(GOOD, `allowed although it runs ${JSON.stringify(i)}`).toContain(i);
}

describe('AdmissionReviews, random and mutated', () => {
  it.each(['/validate', '/mutate'])(
    'never crash, never 5xx, answer in time, and never allow what they must not (%s)',
    async (path) => {
      await fc.assert(
        fc.asyncProperty(review, fc.array(jsonMutation, { maxLength: 4 }), async (base, mutations) => {
          const input = mutateJson(base, mutations);
          check(input, await post(path, JSON.stringify(input)));
        }),
        fuzz(500),
      );
    },
    fuzzTimeout(30_000),
  );

  it(
    'a review denied before a mutation is allowed after it only when the mutation removed every image it must not run',
    async () => {
      const denied = review.filter((r) => {
        const v = oracle(r);
        return v.handled && 'images' in v && v.images.some((i) => !GOOD.includes(i));
      });
      await fc.assert(
        fc.asyncProperty(denied, fc.array(jsonMutation, { minLength: 1, maxLength: 3 }), async (base, mutations) => {
          expect((await post('/validate', JSON.stringify(base))).body.response.allowed).toBe(false);
          const input = mutateJson(base, mutations);
          check(input, await post('/validate', JSON.stringify(input)));
        }),
        fuzz(200),
      );
    },
    fuzzTimeout(30_000),
  );

  it(
    'raw bytes (mutated JSON text) never crash the endpoint or get a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(review, fc.array(byteMutation, { minLength: 1, maxLength: 6 }), async (base, mutations) => {
          const bytes = Buffer.from(mutateBytes(Buffer.from(JSON.stringify(base)), mutations));
          const answer = await post('/validate', bytes);
          expect([200, 400]).toContain(answer.status);
          let parsed: unknown;
          try {
            parsed = JSON.parse(bytes.toString('utf8'));
          } catch {
            expect(answer.status).toBe(400);
            return;
          }
          check(parsed, answer);
        }),
        fuzz(500),
      );
    },
    fuzzTimeout(30_000),
  );
});
