import type { Endpoint } from '../../metrics/index.js';
import type { ReviewOutcome } from './decide.js';
import type { AdmissionRequestView } from './review.js';

/**
 * The fields of the per-review log line as JSON text (without braces), written by hand: this is
 * the one line the webhook writes for every review, and building an object graph to hand to
 * `JSON.stringify` cost more than the rest of a warm review. The text is exactly what
 * `JSON.stringify` makes of the same fields as an object, in the same order (tested).
 */

/**
 * Caps, so that one review's line stays small whatever the pod holds (an AdmissionReview may be
 * megabytes: thousands of containers, image strings of any length, a denial per image). Within
 * them the line is exact; beyond them it says what it left out. Worst case about 64 KiB.
 */
export const REVIEW_LINE_LIMITS = {
  /** Images listed; the rest are counted in `imagesOmitted`. */
  images: 32,
  /** Characters of one string value (an image, a name, a reason). */
  fieldChars: 512,
  /** Denial messages listed; the rest are counted in `denialsOmitted`. */
  denials: 8,
  /** Characters of one denial message. */
  denialChars: 2048,
} as const;

/** The cut-off value, marked: `…[+N chars]` says how much is missing. */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[+${s.length - max} chars]`;
}

/** A JSON string literal; plain printable ASCII (the usual case: names, images, digests) needs no escaping. */
function q(value: string): string {
  const s = cut(value, REVIEW_LINE_LIMITS.fieldChars);
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export interface ReviewLineExtras {
  readonly latencyMs: number;
  readonly patched: boolean;
}

export function reviewLine(
  endpoint: Endpoint,
  review: AdmissionRequestView,
  outcome: ReviewOutcome,
  extras: ReviewLineExtras,
): string {
  const ex = outcome.extraction;
  const namespace = ex.handled ? ex.namespace : review.namespace;
  let text = `"endpoint":"${endpoint}","uid":${q(review.uid)}`;
  if (namespace !== undefined) text += `,"namespace":${q(namespace)}`;
  text += `,"kind":${q(review.kind.kind)}`;
  if (review.subResource !== '') text += `,"subResource":${q(review.subResource)}`;
  if (review.name !== undefined) text += `,"name":${q(review.name)}`;
  text += `,"operation":${q(review.operation)},"dryRun":${review.dryRun},"images":[`;
  const listed = Math.min(outcome.outcomes.length, REVIEW_LINE_LIMITS.images);
  for (let i = 0; i < listed; i++) {
    const { container, decision } = outcome.outcomes[i] as ReviewOutcome['outcomes'][number];
    if (i > 0) text += ',';
    text += `{"${container.list === 'volumes' ? 'volume' : 'container'}":${q(container.name)},"image":${q(container.image)}`;
    if (decision.canonical !== undefined) text += `,"canonical":${q(decision.canonical)}`;
    if (decision.digest !== undefined) text += `,"digest":${q(decision.digest)}`;
    text += `,"allowed":${decision.allowed}`;
    if (decision.error !== undefined) text += `,"error":${q(decision.error.code)}`;
    text += '}';
  }
  text += ']';
  if (listed < outcome.outcomes.length) text += `,"imagesOmitted":${outcome.outcomes.length - listed}`;
  if (!ex.handled) text += `,"skipped":${q(ex.reason)}`;
  text += `,"decision":"${outcome.allowed ? 'allowed' : 'denied'}"`;
  const denials = outcome.denials;
  if (denials.length > 0) {
    const shown = denials.slice(0, REVIEW_LINE_LIMITS.denials).map((d) => cut(d, REVIEW_LINE_LIMITS.denialChars));
    text += `,"denials":${JSON.stringify(shown)}`;
    if (shown.length < denials.length) text += `,"denialsOmitted":${denials.length - shown.length}`;
  }
  text += `,"warnings":${outcome.warnings.length}`;
  if (extras.patched) text += ',"patched":true';
  return `${text},"latencyMs":${Number.isFinite(extras.latencyMs) ? extras.latencyMs : null}`;
}
