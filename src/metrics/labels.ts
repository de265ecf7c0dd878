/**
 * Label values that come from requests, kept to bounded sets. A Prometheus series exists for
 * every distinct label combination and is never forgotten by the client library: a label value
 * taken from a request (an image's registry host, an AdmissionReview's kind or operation) would
 * let anyone who can create a pod grow the webhook's memory and the monitoring system's series
 * without limit. So: kinds and operations come from fixed lists, registry hosts from the
 * configuration plus the most recently successful ones up to a limit; everything else is `other`.
 */

/** What may appear in the `kind` label: the kinds the webhook handles and the Gatekeeper request. */
export const KIND_LABELS: ReadonlySet<string> = new Set([
  'Pod',
  'EphemeralContainers',
  'ReplicationController',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ProviderRequest',
  'unknown',
]);

/** What may appear in the `operation` label: admission operations, the Gatekeeper modes, `unknown`. */
export const OPERATION_LABELS: ReadonlySet<string> = new Set([
  'CREATE',
  'UPDATE',
  'DELETE',
  'CONNECT',
  'verify',
  'mutate',
  'unknown',
]);

export const OTHER = 'other';

export function kindLabel(kind: string): string {
  return KIND_LABELS.has(kind) ? kind : OTHER;
}

export function operationLabel(operation: string): string {
  return OPERATION_LABELS.has(operation) ? operation : OTHER;
}

/** An HTTP status (100-599) as text, or `error` for anything else (no answer, a bogus value). */
export function statusLabel(status: number | string): string {
  if (typeof status === 'number')
    return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'error';
  return status === 'error' || status === 'timeout' ? status : 'error';
}

/**
 * Registry hosts that may be a label value: the configured ones, always, and up to `maxRecent`
 * others that most recently answered a request successfully (2xx). A host that was never
 * successful, or that fell out of the recent set, is `other`. When a host falls out, `onEvict`
 * is told so that its series can be removed: the number of series stays bounded, not only the
 * number of hosts labelled at one time.
 */
export class BoundedHosts {
  readonly #configured: ReadonlySet<string>;
  readonly #maxRecent: number;
  /** Insertion order = recency (a Map iterates in insertion order; re-inserting moves to the end). */
  readonly #recent = new Map<string, true>();
  readonly #onEvict: (host: string) => void;

  constructor(configured: Iterable<string>, maxRecent: number, onEvict: (host: string) => void) {
    this.#configured = new Set(configured);
    this.#maxRecent = Math.max(0, Math.floor(maxRecent));
    this.#onEvict = onEvict;
  }

  /** The label for a request to `host` that ended with `status`; records success. */
  label(host: string, status: number | string): string {
    if (this.#configured.has(host)) return host;
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    if (this.#recent.has(host)) {
      if (ok) {
        this.#recent.delete(host);
        this.#recent.set(host, true);
      }
      return host;
    }
    if (!ok || this.#maxRecent === 0) return OTHER;
    if (this.#recent.size >= this.#maxRecent) {
      const oldest = this.#recent.keys().next().value as string;
      this.#recent.delete(oldest);
      this.#onEvict(oldest);
    }
    this.#recent.set(host, true);
    return host;
  }

  get size(): number {
    return this.#configured.size + this.#recent.size;
  }
}
