import type { ImageCheckRequest, ImageDecision } from '../executor/index.js';
import { classify, type Classified } from './classify.js';
import type { AuditTarget } from './inventory.js';

/** What the audit needs of the engine: the webhook's own decider, image by image. */
export interface AuditVerifier {
  check(request: ImageCheckRequest): Promise<ImageDecision>;
}

export interface AuditRow extends Classified {
  readonly target: AuditTarget;
  readonly digest?: string;
}

export interface EvaluateOptions {
  readonly verifier: AuditVerifier;
  /** The time each image may take (the webhook's timeout), ms. */
  readonly perImageTimeoutMs: number;
  /** Images evaluated at once. */
  readonly concurrency: number;
  readonly now: () => number;
  /** Called after each distinct image is decided (for a progress line). */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Decides every target with the webhook's engine. Targets that ask the same question (namespace,
 * image, pull secrets, service account) are decided once; at most `concurrency` at a time, each
 * with the webhook's deadline. The engine never throws for an image (its problems are in the
 * decision); anything else it throws is an error of the audit and propagates.
 */
export async function evaluate(targets: readonly AuditTarget[], options: EvaluateOptions): Promise<AuditRow[]> {
  const questions = new Map<string, AuditTarget>();
  const keyOf = (t: AuditTarget): string =>
    JSON.stringify([t.namespace, t.image, t.pullSecretNames, t.serviceAccountName ?? null]);
  for (const t of targets) if (!questions.has(keyOf(t))) questions.set(keyOf(t), t);
  const answers = new Map<string, ImageDecision>();
  const pending = [...questions.entries()];
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
      const [key, t] = next;
      const decision = await options.verifier.check({
        image: t.image,
        namespace: t.namespace,
        deadline: options.now() + options.perImageTimeoutMs,
        pullSecretNames: t.pullSecretNames,
        ...(t.serviceAccountName === undefined ? {} : { serviceAccountName: t.serviceAccountName }),
      });
      answers.set(key, decision);
      options.onProgress?.(++done, questions.size);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, pending.length)) }, worker));
  return targets.map((target) => {
    const decision = answers.get(keyOf(target)) as ImageDecision;
    return { target, ...(decision.digest === undefined ? {} : { digest: decision.digest }), ...classify(decision) };
  });
}
