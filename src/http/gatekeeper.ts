import type { FastifyInstance, FastifyReply } from 'fastify';
import { PortcullisError, isPortcullisError } from '../errors/index.js';
import type { ImageDecision, PolicyVerdict } from '../executor/index.js';
import type { Endpoint } from '../metrics/index.js';
import { isRecord, own, describe } from './admission/review.js';
import { REVIEW_LINE_LIMITS, cut } from './admission/review-line.js';
import { type RouteDeps, classifyError, track } from './context.js';
import { budgetMs } from './deadline.js';
import { denialLine, isVerified, subjectOf } from './messages.js';

/**
 * Gatekeeper external data provider (gatekeeper website/docs/externaldata.md):
 * `POST /gatekeeper/v1/verify` and `POST /gatekeeper/v1/mutate` take a ProviderRequest whose keys
 * are `image` or `[namespace]image` and answer a ProviderResponse with one item per key.
 *
 * - A key without a namespace is checked in the configured default namespace (by default `""`:
 *   no TrustPolicy applies there, so only ClusterTrustPolicies decide — the cluster scope).
 * - Per-key `error`: the image is denied (a definitive answer Gatekeeper may cache).
 * - `systemError`: the request as a whole failed — malformed, or some image could not be decided
 *   (registry down, deadline) under a fail-closed failure policy. Gatekeeper does not cache a
 *   response with systemError, so a transient failure is not replayed for its cache TTL.
 * - `idempotent: true` on both: the answer for a key depends only on the key, the registry
 *   content and the policy snapshot; Gatekeeper requires it for mutation (and reads it for
 *   nothing else). Gatekeeper caches every answer per key for its own TTL
 *   (`--external-data-provider-response-cache-ttl`, 3 min by default), so a tag key's verdict can
 *   outlive the tag's meaning there: docs/install.md says to lower it or pin digests.
 */

export const GATEKEEPER_API_VERSIONS = [
  'externaldata.gatekeeper.sh/v1beta1',
  'externaldata.gatekeeper.sh/v1alpha1',
] as const;
type ApiVersion = (typeof GATEKEEPER_API_VERSIONS)[number];

export interface ProviderItem {
  readonly key: string;
  readonly value?: unknown;
  readonly error?: string;
}

export interface ProviderResponse {
  readonly apiVersion: ApiVersion;
  readonly kind: 'ProviderResponse';
  readonly response: {
    readonly idempotent: boolean;
    readonly items: readonly ProviderItem[];
    readonly systemError?: string;
  };
}

/** The verify report for one key, Portcullis' counterpart of Ratify's verifier report. */
export interface VerifyReport {
  readonly allowed: boolean;
  /**
   * Every applicable policy admitted the image and one checked its signature (false when admitted by warn mode, no
   * policy, only `skip` statements, or the failure policy).
   */
  readonly verified: boolean;
  readonly image: string;
  /** The reference as Portcullis read it (canonical registry, Docker Hub folded), when it differs from `image`. */
  readonly canonical?: string;
  readonly namespace: string;
  readonly digest?: string;
  /** The executor's verdicts, without their per-verdict warnings. */
  readonly verdicts: readonly Omit<PolicyVerdict, 'warnings'>[];
  readonly warnings: readonly string[];
  readonly error?: { readonly code: string; readonly message: string };
}

export interface GatekeeperOptions extends RouteDeps {
  /** Namespace for keys without `[namespace]`. Default `""` (cluster scope). */
  readonly defaultNamespace: string;
  /** Gatekeeper's call timeout for verify (Provider spec.timeout / validating webhook timeout), ms. Default 3000. */
  readonly verifyTimeoutMs: number;
  /** Gatekeeper's call timeout for mutate (the mutating webhook's 1 s by default), ms. Default 1000. */
  readonly mutateTimeoutMs: number;
}

/** Keys beyond this many are refused: Gatekeeper batches a pod's images (audit: a chunk of pods). */
export const MAX_KEYS = 10_000;
const MAX_KEY_LENGTH = 4096;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KEY = /^\[([^\]]*)\](.*)$/s;

interface ParsedRequest {
  readonly apiVersion: ApiVersion;
  readonly keys: readonly string[];
}

function invalid(message: string): never {
  throw new PortcullisError('ERR_ADMISSION_INVALID', `malformed ProviderRequest: ${message}`);
}

export function parseProviderRequest(body: unknown): ParsedRequest {
  if (!isRecord(body)) invalid(`the body must be a JSON object, not ${describe(body)}`);
  const apiVersion = own(body, 'apiVersion');
  if (!GATEKEEPER_API_VERSIONS.includes(apiVersion as ApiVersion)) {
    invalid(
      `apiVersion must be one of ${GATEKEEPER_API_VERSIONS.join(', ')}, not ${JSON.stringify(apiVersion) ?? 'absent'}`,
    );
  }
  if (own(body, 'kind') !== 'ProviderRequest')
    invalid(`kind must be "ProviderRequest", not ${JSON.stringify(own(body, 'kind')) ?? 'absent'}`);
  const request = own(body, 'request');
  if (!isRecord(request)) invalid(`request must be an object, not ${describe(request)}`);
  const keys = own(request, 'keys');
  if (!Array.isArray(keys)) invalid(`request.keys must be an array, not ${describe(keys)}`);
  if (keys.length > MAX_KEYS) invalid(`request.keys has ${keys.length} keys, more than ${MAX_KEYS}`);
  const copy: string[] = [];
  keys.forEach((k: unknown, i) => {
    if (typeof k !== 'string') invalid(`request.keys[${i}] must be a string, not ${describe(k)}`);
    if (k.length > MAX_KEY_LENGTH) invalid(`request.keys[${i}] is longer than ${MAX_KEY_LENGTH} characters`);
    copy.push(k);
  });
  return { apiVersion: apiVersion as ApiVersion, keys: copy };
}

/** `[ns]image` → { namespace: 'ns', image }; `image` → the default namespace. */
export function parseKey(
  key: string,
  defaultNamespace: string,
): { namespace: string; image: string } | { error: string } {
  const m = KEY.exec(key);
  if (m !== null && m[1] === '') {
    // `[]image` is not "no namespace": it is a key whose namespace part is empty, most likely a
    // policy that read an empty namespace. Checking it in the default namespace would hide that.
    return {
      error: `key ${JSON.stringify(key)} has an empty [namespace] part; write the image alone to check it in the default namespace [ERR_ADMISSION_INVALID]`,
    };
  }
  const namespace = m === null ? defaultNamespace : (m[1] as string);
  const image = m === null ? key : (m[2] as string);
  if (m !== null && namespace !== defaultNamespace && (namespace.length > 63 || !NAMESPACE.test(namespace))) {
    return {
      error: `key ${JSON.stringify(key)}: ${JSON.stringify(namespace)} is not a namespace name (RFC 1123 label) [ERR_ADMISSION_INVALID]`,
    };
  }
  if (image === '') return { error: `key ${JSON.stringify(key)} names no image [ERR_ADMISSION_INVALID]` };
  return { namespace, image };
}

function report(image: string, namespace: string, d: ImageDecision): VerifyReport {
  return {
    allowed: d.allowed,
    verified: isVerified(d),
    image,
    ...(d.canonical === undefined ? {} : { canonical: d.canonical }),
    namespace,
    ...(d.digest === undefined ? {} : { digest: d.digest }),
    verdicts: d.verdicts.map((v) => ({
      policy: v.policy,
      enforcementAction: v.enforcementAction,
      verified: v.verified,
      ...(v.statement === undefined ? {} : { statement: v.statement }),
      failedCheck: v.failedCheck,
      code: v.code,
      message: v.message,
    })),
    warnings: d.warnings,
    ...(d.error === undefined ? {} : { error: { code: d.error.code, message: d.error.message } }),
  };
}

function subject(image: string, namespace: string): string {
  return `${subjectOf(image)}${namespace === '' ? '' : ` in namespace ${JSON.stringify(namespace)}`}`;
}

async function answer(
  mode: 'verify' | 'mutate',
  parsed: ParsedRequest,
  opts: GatekeeperOptions,
  deadline: number,
  budget: number,
): Promise<{ items: ProviderItem[]; systemError?: string; denied: number }> {
  const targets = parsed.keys.map((key) => ({ key, target: parseKey(key, opts.defaultNamespace) }));
  const byNamespace = new Map<string, string[]>();
  for (const { target } of targets) {
    if ('error' in target) continue;
    const list = byNamespace.get(target.namespace) ?? [];
    list.push(target.image);
    byNamespace.set(target.namespace, list);
  }
  const decided = new Map<string, ImageDecision>();
  await Promise.all(
    [...byNamespace].map(async ([namespace, images]) => {
      // Each namespace is a review of its own (its own share of the registries).
      for (const [image, d] of await opts.verifier.decide({ images, namespace, deadline, budgetMs: budget }))
        decided.set(`${namespace}\u0000${image}`, d);
    }),
  );
  const endpoint: Endpoint = mode === 'verify' ? 'gatekeeper_verify' : 'gatekeeper_mutate';
  for (const d of decided.values())
    opts.metrics.observeImageDecision(endpoint, d.error !== undefined ? 'error' : d.allowed ? 'allowed' : 'denied');

  const items: ProviderItem[] = [];
  const undecided: string[] = [];
  let denied = 0;
  for (const { key, target } of targets) {
    if ('error' in target) {
      items.push({ key, error: target.error });
      denied++;
      continue;
    }
    const d = decided.get(`${target.namespace}\u0000${target.image}`) as ImageDecision;
    const who = subject(target.image, target.namespace);
    if (d.error !== undefined && !d.allowed) undecided.push(denialLine(who, d));
    if (!d.allowed) {
      denied++;
      items.push({
        key,
        ...(mode === 'verify' ? { value: report(target.image, target.namespace, d) } : {}),
        error: denialLine(who, d),
      });
    } else if (mode === 'verify') {
      items.push({ key, value: report(target.image, target.namespace, d) });
    } else {
      // Pin only what every policy verified; anything else passes through as written.
      const pinned = isVerified(d) && d.pinned !== undefined && !target.image.includes('@') ? d.pinned : target.image;
      items.push({ key, value: pinned });
    }
  }
  if (undecided.length === 0) return { items, denied };
  const shown = undecided.slice(0, 5).join('; ');
  return {
    items,
    denied,
    systemError: `${undecided.length} image(s) could not be decided: ${shown}${undecided.length > 5 ? '; …' : ''}`,
  };
}

function respond(
  reply: FastifyReply,
  status: number,
  apiVersion: ApiVersion,
  items: readonly ProviderItem[],
  systemError?: string,
): FastifyReply {
  const body: ProviderResponse = {
    apiVersion,
    kind: 'ProviderResponse',
    response: { idempotent: true, items, ...(systemError === undefined ? {} : { systemError }) },
  };
  return reply.code(status).type('application/json').send(body);
}

export async function gatekeeperRoutes(app: FastifyInstance, opts: GatekeeperOptions): Promise<void> {
  app.setErrorHandler((error, request, reply) => {
    const { status, code, message } = classifyError(error);
    const endpoint: Endpoint = request.url.includes('/mutate') ? 'gatekeeper_mutate' : 'gatekeeper_verify';
    opts.metrics.observeAdmission({ endpoint, result: 'error', kind: 'ProviderRequest', operation: 'unknown' });
    opts.log[status >= 500 ? 'error' : 'warn'](
      { endpoint, status, code, reason: message },
      'gatekeeper request rejected',
    );
    return respond(reply, status, GATEKEEPER_API_VERSIONS[0], [], `${message} [${code}]`);
  });

  for (const mode of ['verify', 'mutate'] as const) {
    const endpoint: Endpoint = mode === 'verify' ? 'gatekeeper_verify' : 'gatekeeper_mutate';
    app.post(`/gatekeeper/v1/${mode}`, async (request, reply) => {
      const t = track(opts, endpoint);
      const budget = budgetMs(mode === 'verify' ? opts.verifyTimeoutMs : opts.mutateTimeoutMs, opts.marginMs);
      const deadline = t.started + budget;
      let parsed: ParsedRequest;
      try {
        parsed = parseProviderRequest(request.body);
      } catch (error) {
        t.end();
        if (!isPortcullisError(error)) throw error;
        opts.metrics.observeAdmission({ endpoint, result: 'error', kind: 'ProviderRequest', operation: mode });
        opts.log.warn(
          { endpoint, status: 400, code: error.code, reason: error.message },
          'gatekeeper request rejected',
        );
        return respond(reply, 400, GATEKEEPER_API_VERSIONS[0], [], `${error.message} [${error.code}]`);
      }
      const { items, systemError, denied } = await answer(mode, parsed, opts, deadline, budget);
      const latencyMs = t.end();
      const result = systemError !== undefined ? 'error' : denied > 0 ? 'denied' : 'allowed';
      opts.metrics.observeAdmission({ endpoint, result, kind: 'ProviderRequest', operation: mode });
      opts.reviewLog.info(
        {
          endpoint,
          keys: parsed.keys.length,
          // Capped as the admission review's line is (review-line.ts): a request may hold thousands of keys.
          items: items.slice(0, REVIEW_LINE_LIMITS.images).map((i) => ({
            key: cut(i.key, REVIEW_LINE_LIMITS.fieldChars),
            ...(i.error === undefined ? {} : { error: cut(i.error, REVIEW_LINE_LIMITS.denialChars) }),
          })),
          ...(items.length > REVIEW_LINE_LIMITS.images
            ? { itemsOmitted: items.length - REVIEW_LINE_LIMITS.images }
            : {}),
          decision: result,
          ...(systemError === undefined ? {} : { systemError: cut(systemError, REVIEW_LINE_LIMITS.denialChars * 2) }),
          latencyMs,
        },
        'gatekeeper request',
      );
      return respond(reply, 200, parsed.apiVersion, items, systemError);
    });
  }
}
