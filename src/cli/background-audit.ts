import type { Logger } from 'pino';
import { buildReports, MANAGED_BY, MANAGED_BY_LABEL, type AuditVerifier, type Summary } from '../audit/index.js';
import { toPortcullisError } from '../errors/index.js';
import type { LeaderElector, PagedLister, PolicyReportWriter } from '../kube/index.js';
import type { Metrics } from '../metrics/index.js';
import type { PolicySnapshot } from '../policyset/index.js';
import { runAudit } from './audit-run.js';

/**
 * The server's background audit: every `intervalMs`, and after a policy change, the Lease holder
 * lists what runs, decides every image with the webhook's own executor (its caches: a verdict
 * the webhook reached is reused, and one the audit reached serves the next review) and writes
 * the PolicyReports. A replica that does not hold the Lease does nothing; one audit at a time.
 */
export interface BackgroundAuditOptions {
  readonly lister: PagedLister;
  readonly writer: PolicyReportWriter;
  readonly elector: LeaderElector;
  readonly verifier: AuditVerifier;
  readonly snapshot: () => PolicySnapshot | undefined;
  readonly intervalMs: number;
  readonly onPolicyChange: boolean;
  readonly minGapMs: number;
  readonly perImageTimeoutMs: number;
  readonly concurrency: number;
  readonly pageSize: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now?: () => number;
}

const FOLLOWER_POLL_MS = 5_000;

export class BackgroundAudit {
  readonly #o: BackgroundAuditOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #lastStart = 0;
  #stopped = false;
  #runs = 0;

  constructor(options: BackgroundAuditOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Audits finished (tests). */
  get runs(): number {
    return this.#runs;
  }

  start(): void {
    this.#o.elector.start();
    this.#schedule(Math.min(this.#o.intervalMs, FOLLOWER_POLL_MS));
  }

  /** A new policy snapshot took effect. */
  policyChanged(): void {
    if (this.#o.onPolicyChange) this.trigger();
  }

  /** Asks for an audit as soon as the minimum gap allows (coalesced with one running). */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    const wait = Math.max(0, this.#lastStart + this.#o.minGapMs - this.#now());
    this.#schedule(wait);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
    await this.#o.elector.stop();
  }

  #schedule(delayMs: number | undefined): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (delayMs === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      let ran = false;
      this.#running = this.#runOnce()
        .then((r) => void (ran = r))
        .finally(() => {
          this.#running = undefined;
          if (this.#again) {
            this.#again = false;
            this.trigger();
          } else if (!ran) {
            // Not the Lease holder (yet): look again soon, so that a replica taking over audits at once.
            this.#schedule(FOLLOWER_POLL_MS);
          } else if (this.#o.intervalMs > 0) this.#schedule(this.#o.intervalMs);
        });
    }, delayMs);
    this.#timer.unref?.();
  }

  /** One audit, when this replica holds the Lease; false when it does not (or has no snapshot yet). */
  async #runOnce(): Promise<boolean> {
    const snapshot = this.#o.snapshot();
    // Only the Lease holder audits: the others would decide the same images for nothing.
    if (!this.#o.elector.leading || snapshot === undefined) return false;
    this.#lastStart = this.#now();
    const logger = this.#o.logger;
    try {
      const result = await runAudit({
        lister: this.#o.lister,
        verifier: this.#o.verifier,
        snapshot,
        scope: {},
        perImageTimeoutMs: this.#o.perImageTimeoutMs,
        concurrency: this.#o.concurrency,
        pageSize: this.#o.pageSize,
        now: this.#now,
      });
      const at = this.#now();
      const { namespaced, cluster } = buildReports(result.rows, at, result.namespaces);
      // Leadership may have moved while the audit ran: the new holder writes.
      if (!this.#o.elector.leading) return false;
      const written = await this.#o.writer.writeAll([...namespaced, cluster], `${MANAGED_BY_LABEL}=${MANAGED_BY}`);
      this.#o.metrics.setAuditResults(cluster.summary as Summary, at);
      this.#runs++;
      logger.info(
        {
          revision: snapshot.revision,
          namespaces: result.namespaces.length,
          images: result.rows.length,
          summary: cluster.summary,
          reports: written.written,
          emptied: written.emptied,
          ms: at - this.#lastStart,
        },
        'audit: PolicyReports written',
      );
    } catch (thrown) {
      const error = toPortcullisError(thrown, 'ERR_KUBE_API');
      logger.warn({ code: error.code, err: error.message }, 'audit failed; the next one retries');
    }
    return true;
  }
}
