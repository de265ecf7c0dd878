import { describe, expect, it } from 'vitest';
import type { ImageDecision } from '../../executor/types.js';
import type { Endpoint } from '../../metrics/index.js';
import { deniedDecision, verifiedDecision } from '../testing/fake-verifier.js';
import type { ReviewOutcome } from './decide.js';
import type { ContainerImage } from './extract.js';
import type { AdmissionRequestView } from './review.js';
import { REVIEW_LINE_LIMITS, reviewLine, type ReviewLineExtras } from './review-line.js';

/** The reference: the same fields as an object, as `JSON.stringify` writes them. */
function reviewRecord(
  endpoint: Endpoint,
  review: AdmissionRequestView,
  outcome: ReviewOutcome,
  extras: ReviewLineExtras,
): Record<string, unknown> {
  const ex = outcome.extraction;
  return {
    endpoint,
    uid: review.uid,
    namespace: ex.handled ? ex.namespace : review.namespace,
    kind: review.kind.kind,
    ...(review.subResource === '' ? {} : { subResource: review.subResource }),
    name: review.name,
    operation: review.operation,
    dryRun: review.dryRun,
    images: outcome.outcomes.map((o) => ({
      [o.container.list === 'volumes' ? 'volume' : 'container']: o.container.name,
      image: o.container.image,
      canonical: o.decision.canonical,
      digest: o.decision.digest,
      allowed: o.decision.allowed,
      ...(o.decision.error === undefined ? {} : { error: o.decision.error.code }),
    })),
    ...(ex.handled ? {} : { skipped: ex.reason }),
    decision: outcome.allowed ? 'allowed' : 'denied',
    ...(outcome.denials.length > 0 ? { denials: outcome.denials } : {}),
    warnings: outcome.warnings.length,
    ...(extras.patched ? { patched: true } : {}),
    latencyMs: extras.latencyMs,
  };
}

function view(over: Partial<AdmissionRequestView> = {}): AdmissionRequestView {
  return {
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    subResource: '',
    namespace: 'prod',
    name: 'web',
    operation: 'CREATE',
    dryRun: false,
    object: null,
    oldObject: null,
    ...over,
  };
}

function container(name: string, image: string, index = 0): ContainerImage {
  return { name, image, list: 'containers', index, pointer: `/spec/containers/${index}/image` };
}

function outcome(pairs: [ContainerImage, ImageDecision][], over: Partial<ReviewOutcome> = {}): ReviewOutcome {
  const outcomes = pairs.map(([c, decision]) => ({ container: c, decision }));
  const denials = pairs.filter(([, d]) => !d.allowed).map(([c]) => `container "${c.name}" denied`);
  return {
    extraction: {
      handled: true,
      namespace: 'prod',
      containers: pairs.map(([c]) => c),
      toCheck: pairs.map(([c]) => c),
      pullSecretNames: [],
      serviceAccountName: undefined,
    },
    outcomes,
    allowed: denials.length === 0,
    denials,
    warnings: [],
    ...over,
  };
}

const undecided: ImageDecision = {
  image: 'r/x:1',
  allowed: false,
  verdicts: [],
  warnings: [],
  error: { code: 'ERR_REGISTRY_UNREACHABLE', message: 'down', failurePolicyApplied: 'fail' },
  reason: 'down',
};

describe('the per-review log line', () => {
  const cases: [string, AdmissionRequestView, ReviewOutcome, ReviewLineExtras][] = [
    [
      'an allowed pod',
      view(),
      outcome([[container('app', 'r.example/app:1'), verifiedDecision('r.example/app:1')]]),
      { latencyMs: 0.25, patched: false },
    ],
    [
      'a denied pod with an undecided image and warnings',
      view({ dryRun: true }),
      outcome(
        [
          [container('a', 'r/a:1'), deniedDecision('r/a:1')],
          [container('x', 'r/x:1', 1), undecided],
        ],
        { warnings: ['w1', 'w2'] },
      ),
      { latencyMs: 12, patched: false },
    ],
    [
      'a patched mutation',
      view({ operation: 'UPDATE' }),
      outcome([[container('app', 'r/app:1'), verifiedDecision('r/app:1')]]),
      { latencyMs: 3, patched: true },
    ],
    [
      'an image written otherwise than it is read (the canonical reference beside it)',
      view(),
      outcome([
        [
          container('app', 'LOCALHOST:05000/app:1'),
          { ...verifiedDecision('LOCALHOST:05000/app:1'), canonical: 'localhost:5000/app:1' },
        ],
      ]),
      { latencyMs: 2, patched: false },
    ],
    [
      'an ephemeral container subresource without a name',
      view({ subResource: 'ephemeralcontainers', name: undefined }),
      outcome([[container('debug', 'busybox'), verifiedDecision('busybox')]]),
      { latencyMs: 1, patched: false },
    ],
    [
      'an image volume',
      view(),
      outcome([
        [
          { name: 'models', image: 'r/model:1', list: 'volumes', index: 0, pointer: '/spec/volumes/0/image/reference' },
          verifiedDecision('r/model:1'),
        ],
      ]),
      { latencyMs: 2, patched: false },
    ],
    [
      'a skipped request without a namespace',
      view({ operation: 'DELETE', namespace: undefined }),
      {
        extraction: { handled: false, reason: 'DELETE runs no new image', warn: false },
        outcomes: [],
        allowed: true,
        denials: [],
        warnings: [],
      },
      { latencyMs: 0, patched: false },
    ],
    [
      'strings that need escaping',
      view({ uid: 'quote " back \\ line \n tab \t', name: 'ünïcödé \u2028' }),
      outcome([[container('c"1', 'r/\u0001:1'), { ...verifiedDecision('r/\u0001:1'), digest: 'sha256:"x"' }]]),
      { latencyMs: 1e-7, patched: false },
    ],
  ];

  it.each(cases)('is what JSON.stringify writes for %s', (_name, review, out, extras) => {
    const line = reviewLine('validate', review, out, extras);
    expect(`{${line}}`).toBe(JSON.stringify(reviewRecord('validate', review, out, extras)));
    expect(JSON.parse(`{${line}}`)).toEqual(JSON.parse(JSON.stringify(reviewRecord('validate', review, out, extras))));
  });

  it('stays small for a hostile review: images, strings and denials are capped, with what was left out said', () => {
    // 2,000 containers, each with a 10,000-character image and a denial: uncapped, about 60 MB of log per review.
    const long = (i: number) => `r.example/${'x'.repeat(10_000)}:${i}`;
    const pairs: [ContainerImage, ImageDecision][] = Array.from({ length: 2000 }, (_, i) => [
      container(`c${i}`, long(i), i),
      deniedDecision(long(i)),
    ]);
    const base = outcome(pairs);
    const out = { ...base, denials: base.denials.map((d) => `${d}: ${'why '.repeat(5000)}`) };
    const line = reviewLine('validate', view({ name: 'n'.repeat(100_000) }), out, { latencyMs: 1, patched: false });
    expect(line.length).toBeLessThan(64 * 1024);
    const record = JSON.parse(`{${line}}`) as {
      name: string;
      images: { container: string; image: string }[];
      imagesOmitted: number;
      denials: string[];
      denialsOmitted: number;
      decision: string;
    };
    expect(record.images).toHaveLength(REVIEW_LINE_LIMITS.images);
    expect(record.imagesOmitted).toBe(2000 - REVIEW_LINE_LIMITS.images);
    expect(record.images[0]?.container).toBe('c0');
    expect(record.images[0]?.image).toBe(`${long(0).slice(0, 512)}…[+${long(0).length - 512} chars]`);
    expect(record.name).toBe(`${'n'.repeat(512)}…[+${100_000 - 512} chars]`);
    expect(record.denials).toHaveLength(REVIEW_LINE_LIMITS.denials);
    expect(record.denialsOmitted).toBe(2000 - REVIEW_LINE_LIMITS.denials);
    expect(record.denials[0]).toMatch(/…\[\+\d+ chars\]$/);
    expect(record.decision).toBe('denied');
  });
});
