import type { ImageCheckRequest, ImageDecision, ImageVerifier, PolicyVerdict } from '../../executor/index.js';

/**
 * A scripted ImageVerifier for tests and benchmarks of the HTTP edge: decides by a function of
 * the request, records every call, and can be made ready (or not) at will.
 */
export class FakeVerifier implements ImageVerifier {
  readonly calls: ImageCheckRequest[] = [];
  #ready: boolean;
  readonly #decide: (request: ImageCheckRequest) => ImageDecision | Promise<ImageDecision>;

  constructor(
    decide: (request: ImageCheckRequest) => ImageDecision | Promise<ImageDecision> = (r) => verifiedDecision(r.image),
    ready = true,
  ) {
    this.#decide = decide;
    this.#ready = ready;
  }

  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  ready(): boolean {
    return this.#ready;
  }

  async check(request: ImageCheckRequest): Promise<ImageDecision> {
    this.calls.push(request);
    return this.#decide(request);
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
