/**
 * The decision a soak review must get, and whether the webhook gave it. Pure: the truth about
 * each image (signed, unsigned, or a moving tag whose answer may lag), the windows in which each
 * registry misbehaved, and the answer in; a verdict out.
 */

export type Truth = 'signed' | 'unsigned' | 'either';

export interface ContainerCase {
  readonly name: string;
  readonly image: string;
  readonly registry: number;
  readonly truth: Truth;
}

export interface ReviewCase {
  readonly containers: readonly ContainerCase[];
  /** `false`: a namespace no policy covers (everything must be allowed). */
  readonly enforced: boolean;
  /** When the review was sent, ms since the soak started. */
  readonly sentAt: number;
}

export interface Answer {
  readonly status: number;
  readonly allowed: boolean | undefined;
  readonly message: string;
  readonly answeredAt: number;
}

/** A time a registry misbehaved (slow, 429, garbage, restarting), ms since the soak started. */
export interface ChaosWindow {
  readonly registry: number;
  readonly mode: string;
  readonly from: number;
  readonly to: number;
}

export type Judgement =
  | { readonly ok: true; readonly kind: 'allowed' | 'denied' | 'denied-by-chaos' }
  | { readonly ok: false; readonly reason: string };

/**
 * Codes that say "no verdict could be reached" or "the registry gave an unusable answer": a
 * signed image may be denied with one of them while its registry misbehaves (fail closed), never
 * otherwise.
 */
const INFRA_CODES =
  /\[(ERR_REGISTRY_[A-Z_]+|ERR_DEADLINE_EXCEEDED|ERR_DIGEST_MISMATCH|ERR_SIZE_LIMIT|ERR_SIGNATURE_MANIFEST_INVALID)\]/;

/** How long after a window a registry's misbehaviour may still show (answers in flight, the deadline). */
export const CHAOS_GRACE_MS = 12_000;

/** The denial line of each container (`container "name" image "…" …`), by container name. */
export function denialLines(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of message.split('\n')) {
    const m = /^container "((?:[^"\\]|\\.)*)" /.exec(line);
    if (m !== null) out.set(JSON.parse(`"${m[1] as string}"`) as string, line);
  }
  return out;
}

export function judge(review: ReviewCase, answer: Answer, windows: readonly ChaosWindow[]): Judgement {
  if (answer.status !== 200 || answer.allowed === undefined)
    return { ok: false, reason: `HTTP ${answer.status}: ${answer.message.slice(0, 200)}` };
  if (!review.enforced)
    return answer.allowed
      ? { ok: true, kind: 'allowed' }
      : { ok: false, reason: `denied in a namespace no policy covers: ${answer.message.slice(0, 300)}` };
  if (answer.allowed) {
    const unsigned = review.containers.find((c) => c.truth === 'unsigned');
    return unsigned === undefined
      ? { ok: true, kind: 'allowed' }
      : { ok: false, reason: `allowed although ${unsigned.image} is not signed` };
  }
  const lines = denialLines(answer.message);
  if (lines.size === 0)
    return { ok: false, reason: `denied without a line per container: ${answer.message.slice(0, 300)}` };
  // Every unsigned image is named; a signed image is named only while its registry misbehaves,
  // with a code that says so; an image whose tag just moved may go either way.
  for (const c of review.containers) {
    if (c.truth === 'unsigned' && !lines.has(c.name))
      return { ok: false, reason: `the unsigned ${c.image} is not among the denials: ${answer.message.slice(0, 300)}` };
  }
  let byChaos = false;
  for (const [name, line] of lines) {
    const c = review.containers.find((x) => x.name === name);
    if (c === undefined) return { ok: false, reason: `a denial for a container the pod does not have: ${line}` };
    if (c.truth !== 'signed') continue;
    const chaos = windows.some(
      (w) => w.registry === c.registry && w.from <= answer.answeredAt && w.to + CHAOS_GRACE_MS >= review.sentAt,
    );
    if (!chaos || !INFRA_CODES.test(line))
      return {
        ok: false,
        reason: `signed image denied${chaos ? '' : ' outside any chaos window'}: ${line.slice(0, 400)}`,
      };
    byChaos = true;
  }
  return {
    ok: true,
    kind: byChaos && !review.containers.some((c) => c.truth === 'unsigned') ? 'denied-by-chaos' : 'denied',
  };
}
