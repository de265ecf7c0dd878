import type { ImageDecision, PolicyVerdict } from '../executor/index.js';

/**
 * The words people read: denial lines and warnings. A denial names the container, the image,
 * the resolved digest, the policy (and statement), the failed check, the cause and its code, so
 * the reader knows what to fix without the webhook's log (peers.md pain point 10).
 */

/** Kubernetes truncates a warning over 256 characters (runes) and drops control characters. */
export const WARNING_MAX_RUNES = 256;
/** The API server keeps at most 4 KiB of warnings per request (k8s.io/apiserver warning recorder). */
export const WARNINGS_TOTAL_MAX_RUNES = 4096;
/** A denial message is shown by kubectl whole; keep a pathological one bounded. */
const MESSAGE_MAX_CHARS = 16 * 1024;

/**
 * `container "app" image "registry.example/app:1.2"` (or `volume "…"` for an image volume), or `image "…"` when there
 * is no container.
 */
export function subjectOf(image: string, container?: string, what: 'container' | 'volume' = 'container'): string {
  return container === undefined ? `image ${quote(image)}` : `${what} ${quote(container)} image ${quote(image)}`;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s);
}

/**
 * ` (read as <canonical>, <digest>)`: the reference as Portcullis read it, when it differs from the written one, and
 * the digest.
 */
function digestPart(decision: ImageDecision): string {
  const canonical = decision.canonical === undefined ? undefined : `read as ${decision.canonical}`;
  if (decision.digest === undefined) return canonical === undefined ? '' : ` (${canonical})`;
  return canonical === undefined ? ` (${decision.digest})` : ` (${canonical}, ${decision.digest})`;
}

function codePart(code: string | null | undefined): string {
  return code === null || code === undefined || code === '' ? '' : ` [${code}]`;
}

function verdictCause(v: PolicyVerdict): string {
  const statement = v.statement === undefined ? '' : ` statement ${JSON.stringify(v.statement)}`;
  const check = v.failedCheck === null ? 'verification failed' : `${v.failedCheck} failed`;
  return `${v.policy}${statement}: ${check} — ${v.message}${codePart(v.code)}`;
}

/**
 * Whether the image was positively verified: every applicable policy admitted it and at least
 * one checked its signature (a `skip` statement admits without checking). The only case to pin.
 */
export function isVerified(decision: ImageDecision): boolean {
  return (
    decision.allowed &&
    decision.error === undefined &&
    decision.verdicts.every((v) => v.verified) &&
    decision.verdicts.some((v) => v.skipped !== true)
  );
}

/** One line saying why the image is denied. Call only for `allowed: false`. */
export function denialLine(subject: string, decision: ImageDecision): string {
  const head = `${subject}${digestPart(decision)}`;
  if (decision.error !== undefined) {
    return `${head} could not be verified: ${decision.error.message}${codePart(decision.error.code)}; denied by the failure policy (fail closed)`;
  }
  const denying = decision.verdicts.filter((v) => !v.verified && v.enforcementAction === 'deny');
  if (denying.length > 0) return `${head} denied by ${denying.map(verdictCause).join('; and by ')}`;
  return `${head} denied: ${decision.reason ?? 'the verifier gave no reason'}`;
}

/** Whether `warningLines` has anything to say about the decision (without building the lines). */
export function hasWarningLines(decision: ImageDecision): boolean {
  if (decision.warnings.length > 0 || (decision.allowed && decision.error !== undefined)) return true;
  for (const v of decision.verdicts) if (!v.verified && v.enforcementAction === 'warn') return true;
  return false;
}

/** Warnings for one image: checks set to log, policies in warn mode, a failure policy that let it through. */
export function warningLines(subject: string, decision: ImageDecision): string[] {
  const out: string[] = [];
  // A warning is cut at 256 runes: the policy, check and code come before the free-text cause.
  for (const v of decision.verdicts) {
    if (v.verified || v.enforcementAction !== 'warn') continue;
    const statement = v.statement === undefined ? '' : ` statement ${JSON.stringify(v.statement)}`;
    const check = v.failedCheck === null ? 'verification failed' : `${v.failedCheck} failed`;
    out.push(`${subject}: ${v.policy}${statement} (warn mode, allowed): ${check}${codePart(v.code)} — ${v.message}`);
  }
  for (const w of decision.warnings) out.push(`${subject}: ${w}`);
  if (decision.allowed && decision.error !== undefined) {
    out.push(
      `${subject} was not verified, allowed by the failure policy (ignore)${codePart(decision.error.code)}: ${decision.error.message}`,
    );
  }
  return out;
}

/** Control characters are not allowed in a warning (it travels as an HTTP Warning header). */
function sanitize(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
}

function truncateRunes(s: string, max: number): string {
  const runes = Array.from(s);
  if (runes.length <= max) return s;
  // A warning that ends with its code keeps the code: the cut falls on the text before it.
  const code = TRAILING_CODE.exec(s)?.[0];
  if (code !== undefined && code.length < max / 2) return `${runes.slice(0, max - 1 - code.length).join('')}…${code}`;
  return `${runes.slice(0, max - 1).join('')}…`;
}
const TRAILING_CODE = / \[ERR_[A-Z0-9_]+\]$/;

/**
 * Makes warnings safe for the API server: no control characters, each at most 256 runes,
 * duplicates dropped, and in total at most 4 KiB — the rest summarised by a last warning.
 */
export function limitWarnings(warnings: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  const reserve = 80; // room for the summary line
  for (let i = 0; i < warnings.length; i++) {
    const w = truncateRunes(sanitize(warnings[i] as string), WARNING_MAX_RUNES);
    if (seen.has(w)) continue;
    const size = Array.from(w).length;
    if (total + size > WARNINGS_TOTAL_MAX_RUNES - reserve) {
      out.push(`${warnings.length - i} more warning(s) not shown; see the Portcullis log`);
      break;
    }
    seen.add(w);
    out.push(w);
    total += size;
  }
  return out;
}

/** What an image reference may hold and still be pasted into a shell unquoted (and a namespace name). */
const SHELL_SAFE = /^[A-Za-z0-9._:/@+-]{1,300}$/;

/**
 * The last line of a denial: the `portcullis explain` command that shows every check. The pod
 * creator writes the image string and a person may paste the line into a shell, so an image
 * with anything outside the characters of a reference is not repeated: `-f POD.yaml` instead.
 */
export function explainHint(namespace: string, image: string): string {
  const ns = SHELL_SAFE.test(namespace) ? namespace : 'NAMESPACE';
  return SHELL_SAFE.test(image) && !image.startsWith('-')
    ? `to see why: portcullis explain --namespace ${ns} --image ${image}`
    : `to see why: portcullis explain --namespace ${ns} -f POD.yaml`;
}

/** Joins denial lines into one status message, bounded; the `explain` hint, when given, always ends it. */
export function denialMessage(lines: readonly string[], hint?: string): string {
  const text = lines.join('\n');
  const tail = hint === undefined ? '' : `\n${hint}`;
  const body =
    text.length + tail.length <= MESSAGE_MAX_CHARS
      ? text
      : `${text.slice(0, MESSAGE_MAX_CHARS - 40 - tail.length)}… (truncated; see the Portcullis log)`;
  return `${body}${tail}`;
}
