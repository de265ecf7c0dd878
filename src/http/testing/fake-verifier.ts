import {
  decideReview,
  type FailurePolicy,
  type ImageCheckRequest,
  type ImageDecision,
  type ImageVerifier,
  type PolicyVerdict,
  type ReviewDecisions,
  type ReviewRequest,
} from '../../executor/index.js';

/**
 * A scripted ImageVerifier for tests and benchmarks of the HTTP edge: decides each image by a
 * function of its request (a decision at once, or a promise), through the executor's own
 * review logic (deadline, failure policy), records every call, and can be made ready (or not)
 * at will.
 */
export class FakeVerifier implements ImageVerifier {
  readonly calls: ImageCheckRequest[] = [];
  #ready: boolean;
  readonly #decide: (request: ImageCheckRequest) => ImageDecision | Promise<ImageDecision>;
  readonly #failurePolicy: FailurePolicy;

  constructor(
    decide: (request: ImageCheckRequest) => ImageDecision | Promise<ImageDecision> = (r) => verifiedDecision(r.image),
    ready = true,
    failurePolicy: FailurePolicy = 'fail',
  ) {
    this.#decide = decide;
    this.#ready = ready;
    this.#failurePolicy = failurePolicy;
  }

  decide(review: ReviewRequest): ReviewDecisions | Promise<ReviewDecisions> {
    return decideReview(
      review,
      (request) => {
        this.calls.push(request);
        return this.#decide(request);
      },
      this.#failurePolicy,
      Date.now,
    );
  }

  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  ready(): boolean {
    return this.#ready;
  }
}

export const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** `registry/repo@digest` for an image string (a simplified normalisation, enough for tests). */
export function pinnedOf(image: string, digest = DIGEST): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return `${colon > slash ? name.slice(0, colon) : name}@${digest}`;
}

export function verdict(overrides: Partial<PolicyVerdict> = {}): PolicyVerdict {
  return {
    policy: 'TrustPolicy team-a/prod',
    enforcementAction: 'deny',
    verified: true,
    statement: 'prod',
    failedCheck: null,
    code: null,
    message: 'verified',
    warnings: [],
    ...overrides,
  };
}

export function verifiedDecision(image: string, overrides: Partial<ImageDecision> = {}): ImageDecision {
  return {
    image,
    digest: DIGEST,
    pinned: pinnedOf(image),
    allowed: true,
    verdicts: [verdict()],
    warnings: [],
    ...overrides,
  };
}

export const UNTRUSTED: Partial<PolicyVerdict> = {
  verified: false,
  failedCheck: 'authenticity',
  code: 'ERR_CHAIN_UNTRUSTED',
  message: "the signature's certificate chain does not contain any trusted certificate",
};

export function deniedDecision(image: string, overrides: Partial<PolicyVerdict> = {}): ImageDecision {
  return {
    image,
    digest: DIGEST,
    pinned: pinnedOf(image),
    allowed: false,
    verdicts: [verdict({ ...UNTRUSTED, ...overrides })],
    warnings: [],
    reason: 'authenticity failed',
  };
}
