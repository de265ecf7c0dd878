import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { ImageVerifier } from '../executor/index.js';
import { type RecordLogger, recordLoggerOf } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import { type PendingAnswer, validateEndpoint, validateRoutes, writeAnswer } from './admission/index.js';
import type { RouteDeps } from './context.js';
import { type GatekeeperOptions, gatekeeperRoutes } from './gatekeeper.js';
import { WriteBatch } from './write-batch.js';
import { mutateEndpoint, mutateRoutes } from './mutate.js';

/**
 * The fastify application: routes as plugins that get their collaborators in their options,
 * no global decorators for domain services. The app does not listen; `startServer` serves it
 * over HTTPS and `app.inject()` drives it in tests.
 */

export interface AppOptions {
  /**
   * The webhook's timeoutSeconds as configured, ms; `?timeout=` from the API server can only shorten it. Default 10000.
   */
  readonly webhookTimeoutMs?: number;
  /**
   * Time kept back from each deadline for the answer to reach the caller, ms. Default 1000 (half the timeout when that
   * is under 2 × margin).
   */
  readonly marginMs?: number;
  /** Serve `POST /mutate` (pin verified tags to digests). Default false. */
  readonly mutate?: boolean;
  /** Serve the Gatekeeper external data endpoints. Default true. */
  readonly gatekeeper?: boolean;
  /**
   * Namespace used for Gatekeeper keys without `[namespace]`. Default `""`: cluster scope (only ClusterTrustPolicies
   * apply).
   */
  readonly gatekeeperDefaultNamespace?: string;
  /**
   * Gatekeeper's timeout for verify calls, ms (the margin is taken off it). Default 3000, Gatekeeper's validating
   * webhook default.
   */
  readonly gatekeeperVerifyTimeoutMs?: number;
  /** Gatekeeper's timeout for mutate calls, ms. Default 1000, Gatekeeper's mutating webhook default. */
  readonly gatekeeperMutateTimeoutMs?: number;
  /**
   * Largest request body, bytes; larger gets 413. Default 4 MiB: an UPDATE review carries the
   * object and the old object, each at most etcd's 1.5 MiB, plus the envelope.
   */
  readonly bodyLimit?: number;
  /** Serve GET /metrics here. Default true; false when a separate plain-HTTP port serves it (startMetricsServer). */
  readonly serveMetrics?: boolean;
}

export interface AppDeps {
  readonly verifier: ImageVerifier;
  readonly metrics: Metrics;
  /** Where the server logs; no logging when absent. */
  readonly logger?: Logger;
  /** Writes the one line per review (a `JsonLines` on the logger's destination); default the logger itself. */
  readonly reviewLog?: RecordLogger;
  readonly options?: AppOptions;
  /** The clock, epoch ms. Default Date.now. */
  readonly now?: () => number;
}

export const DEFAULTS = {
  webhookTimeoutMs: 10_000,
  marginMs: 1_000,
  gatekeeperVerifyTimeoutMs: 3_000,
  gatekeeperMutateTimeoutMs: 1_000,
  bodyLimit: 4 * 1024 * 1024,
} as const;

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, not ${value}`);
  return value;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const o = deps.options ?? {};
  const marginMs = o.marginMs ?? DEFAULTS.marginMs;
  if (!Number.isFinite(marginMs) || marginMs < 0)
    throw new RangeError(`marginMs must be a number ≥ 0, not ${marginMs}`);
  const bodyLimit = positive('bodyLimit', o.bodyLimit ?? DEFAULTS.bodyLimit);
  const log = deps.logger ?? pino({ level: 'silent' });
  const routeDeps: RouteDeps = {
    verifier: deps.verifier,
    metrics: deps.metrics,
    webhookTimeoutMs: positive('webhookTimeoutMs', o.webhookTimeoutMs ?? DEFAULTS.webhookTimeoutMs),
    marginMs,
    now: deps.now ?? Date.now,
    log,
    reviewLog: deps.reviewLog ?? recordLoggerOf(log),
  };
  const app = Fastify({
    // The routes write one line per review with the root logger; fastify's per-request child
    // loggers and request lines cost time on every request and say nothing more.
    logger: false,
    bodyLimit,
    // Only own fields of the spec are read; poisoned keys are dropped rather than failing a Pod.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) =>
    deps.verifier.ready()
      ? reply.send({ ready: true })
      : reply.code(503).send({ ready: false, message: 'waiting for the first policy snapshot' }),
  );
  if (deps.options?.serveMetrics !== false) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(deps.metrics.contentType).send(await deps.metrics.render()),
    );
  }

  // The review endpoints' answers go out per event-loop turn, through one batch (write-batch.ts).
  const batch = new WriteBatch<PendingAnswer>(writeAnswer);
  void app.register(validateRoutes, { review: validateEndpoint(routeDeps), batch });
  if (o.mutate === true) void app.register(mutateRoutes, { review: mutateEndpoint(routeDeps), batch });
  if (o.gatekeeper ?? true) {
    const gk: GatekeeperOptions = {
      ...routeDeps,
      defaultNamespace: o.gatekeeperDefaultNamespace ?? '',
      verifyTimeoutMs: positive(
        'gatekeeperVerifyTimeoutMs',
        o.gatekeeperVerifyTimeoutMs ?? DEFAULTS.gatekeeperVerifyTimeoutMs,
      ),
      mutateTimeoutMs: positive(
        'gatekeeperMutateTimeoutMs',
        o.gatekeeperMutateTimeoutMs ?? DEFAULTS.gatekeeperMutateTimeoutMs,
      ),
    };
    void app.register(gatekeeperRoutes, gk);
  }
  return app;
}
