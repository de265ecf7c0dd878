import type { Endpoint } from '../../metrics/index.js';
import type { ReviewOutcome } from './decide.js';
import type { AdmissionRequestView } from './review.js';

/**
 * The fields of the per-review log line as JSON text (without braces), written by hand: this is
 * the one line the webhook writes for every review, and building an object graph to hand to
 * `JSON.stringify` cost more than the rest of a warm review. The text is exactly what
 * `JSON.stringify` makes of the same fields as an object, in the same order (tested).
 */

/** A JSON string literal; plain printable ASCII (the usual case: names, images, digests) needs no escaping. */
function q(s: string): string {
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
  for (let i = 0; i < outcome.outcomes.length; i++) {
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
  if (!ex.handled) text += `,"skipped":${q(ex.reason)}`;
  text += `,"decision":"${outcome.allowed ? 'allowed' : 'denied'}"`;
  if (outcome.denials.length > 0) text += `,"denials":${JSON.stringify(outcome.denials)}`;
  text += `,"warnings":${outcome.warnings.length}`;
  if (extras.patched) text += ',"patched":true';
  return `${text},"latencyMs":${Number.isFinite(extras.latencyMs) ? extras.latencyMs : null}`;
}
