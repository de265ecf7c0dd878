import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { PortcullisError } from '../errors/index.js';
import { checkRanges } from './serve-config-ranges.js';
import { checkValue, invalid, isRecord, type Shape } from './serve-config-values.js';

/**
 * `portcullis serve --config FILE`: everything besides the policies. Every field is optional;
 * the defaults are in DEFAULT_SERVE_CONFIG and docs/configuration.md (a test keeps them equal).
 */
export interface ServeConfig {
  readonly webhook: {
    /** The API server's webhook timeout (ValidatingWebhookConfiguration timeoutSeconds). */
    readonly timeoutSeconds: number;
    /** Kept back from the deadline to build and send the answer. */
    readonly marginMilliseconds: number;
    /** No verdict in time (registry down, deadline): `fail` denies, `ignore` allows with a warning. */
    readonly failurePolicy: 'fail' | 'ignore';
    /** Deny images in namespaces (or repositories) no policy covers. */
    readonly denyUnmatchedNamespaces: boolean;
    /** Serve POST /mutate (pin verified tags to digests). */
    readonly mutate: boolean;
    /** Serve the Gatekeeper external-data endpoints. */
    readonly gatekeeper: boolean;
    /** Namespace for Gatekeeper keys without `[namespace]` ("" = cluster policies only). */
    readonly gatekeeperDefaultNamespace: string;
    /** After SIGTERM: seconds of serving with /readyz at 503 before accepting stops (endpoint removal). */
    readonly shutdownDelaySeconds: number;
    /** Then: seconds in-flight reviews get to finish before connections are closed. */
    readonly shutdownTimeoutSeconds: number;
  };
  readonly tls: {
    /** Require client certificates signed by this CA (Gatekeeper mTLS). */
    readonly clientCaFile: string | undefined;
    readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  };
  readonly verification: {
    readonly maxSignatureAttempts: number;
    /** `online` (OCSP, then CRL), `offline` (no fetches: revokable certificates are unknown). */
    readonly revocation: 'online' | 'offline';
    /**
     * A directory of operator-supplied CRLs (`crl/`) and OCSP responses (`ocsp/`), used before any
     * fetch; re-read every minute.
     */
    readonly revocationMaterial: string | undefined;
    /**
     * Secrets and ConfigMaps holding CRLs (keys `*.crl`) and OCSP responses (keys `*.ocsp`), as
     * `ConfigMap/<namespace>/<name>` or `Secret/<namespace>/<name>`: read from the policy source
     * (in Kubernetes, labelled with kubernetes.trustMaterialSelector), re-read when they change, and
     * used with the directory's before any fetch.
     */
    readonly revocationMaterialRefs: readonly string[];
  };
  readonly cache: {
    /** Entries of each keyed cache (tag → digest, signature lists, verdicts). */
    readonly maxEntries: number;
    readonly tagTtlSeconds: number;
    readonly referrersTtlSeconds: number;
    readonly contentMaxBytes: number;
    readonly verdictTtlSeconds: number;
    readonly negativeVerdictTtlSeconds: number;
  };
  readonly registries: {
    /** A Docker config.json whose credentials are used when a pod's pull secrets have none. */
    readonly defaultDockerConfig: string | undefined;
    readonly maxConcurrentPerRegistry: number;
    /** Registry hosts one review may make the webhook contact (cache misses only); past it the image is denied. */
    readonly maxHostsPerReview: number;
    /** Distinct images one review may make the webhook fetch (cache misses only); past it the image is denied. */
    readonly maxImagesPerReview: number;
    /** Registry requests of one review in flight at once (beside the per-registry limit). */
    readonly maxConcurrentPerReview: number;
    /** Bytes of registry answers buffered at once, all reviews together; past it a read waits ≤ 2 s, then denies. */
    readonly maxBufferedBytes: number;
    /**
     * Of those, bytes the reads of one registry may hold at once (unset: half of maxBufferedBytes, at least 4 MiB), so
     * that no one registry (a hostile one dripping large manifests) can starve the others.
     */
    readonly maxBufferedBytesPerRegistry: number | undefined;
    /** Per-registry settings, keyed by host[:port] as in image references. */
    readonly hosts: Readonly<Record<string, { readonly plainHttp: boolean; readonly caFile: string | undefined }>>;
  };
  readonly kubernetes: {
    /**
     * `namespace/name` of a docker-config Secret used when neither the pod nor its service account names pull secrets.
     */
    readonly defaultPullSecret: string | undefined;
    /** Write status.conditions (Ready / Invalid) back to the policy resources: the leader flag (one replica writes). */
    readonly writeStatus: boolean;
    /** The API request budget of status writes: sustained requests per second... */
    readonly statusQps: number;
    /** ...and how many may go at once before that rate applies. */
    readonly statusBurst: number;
    /** Label selector of the Secrets and ConfigMaps read as trust material (TrustStore certificateRefs). */
    readonly trustMaterialSelector: string;
  };
  readonly logging: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** Verification plugins (notation's plugin contract), for signatures that name one. */
  readonly plugins: {
    /** `<directory>/<name>/notation-<name>`; unset: a signature that names a plugin fails (ERR_PLUGIN_REQUIRED). */
    readonly directory: string | undefined;
    /** Deadline of each plugin command; the plugin is killed at it. */
    readonly timeoutSeconds: number;
    /** Plugin processes running at once. */
    readonly maxConcurrent: number;
    /** Variables passed to plugins besides PATH, HOME, TMPDIR, LANG, LC_ALL and TZ, by name. */
    readonly environment: readonly string[];
  };
  /** The background audit (only with --kubernetes/--kubeconfig): PolicyReports of what runs (docs/audit.md). */
  readonly audit: {
    /** Seconds between audits; 0 = no background audit. */
    readonly intervalSeconds: number;
    /** Also audit after each new policy snapshot (debounced by `minGapSeconds`). */
    readonly onPolicyChange: boolean;
    /** Audits never start closer together than this. */
    readonly minGapSeconds: number;
    /** Images evaluated at once. */
    readonly concurrency: number;
    /** Objects per list page. */
    readonly pageSize: number;
    /** The Lease of the leader election (only the holder writes reports): its name. */
    readonly leaseName: string;
    /** Its namespace; "" = the namespace the server runs in. */
    readonly leaseNamespace: string;
    readonly leaseDurationSeconds: number;
  };
  /** Serving /metrics. */
  readonly metrics: {
    /** 0: on the webhook's HTTPS port; else a separate plain-HTTP port serving only /metrics. */
    readonly port: number;
    /** Address of that port; "" = serve's --host. */
    readonly host: string;
  };
  /** Kubernetes Events on the policy resources (with --kubernetes/--kubeconfig only). */
  readonly events: {
    /** Events for denials and invalid policies. */
    readonly enabled: boolean;
    /** Written at once, then `perSecond`. */
    readonly burst: number;
    readonly perSecond: number;
  };
  /** Name resolution of registry hosts (c-ares on the event loop; /etc/hosts and /etc/resolv.conf honoured). */
  readonly dns: {
    /** Name servers (`ip`, `ip:port`, `[ip6]:port`) instead of /etc/resolv.conf's; empty = resolv.conf's. */
    readonly servers: readonly string[];
    /** Per query attempt; unset = resolv.conf's `options timeout`, else 2000. */
    readonly timeoutMilliseconds: number | undefined;
    /** Attempts per query; unset = resolv.conf's `options attempts`, else 2. */
    readonly attempts: number | undefined;
    /** Answers are cached for their TTL, at most this long. */
    readonly maxTtlSeconds: number;
    /** Failed lookups (no such host, no answer) are cached this long. */
    readonly negativeTtlSeconds: number;
  };
  /** Giving memory back after bursts of reviews (README, Performance → Memory). */
  readonly memory: {
    /**
     * Once no review has been in flight for this long after a burst: one full garbage collection (and a scavenge 6 s
     * later if still idle), so RSS falls back towards the live heap (V8 keeps what a burst grew until it collects,
     * which an idle server does only after some 15-40 s). 0 = never.
     */
    readonly idleCollectionSeconds: number;
    /** ...if at least this many reviews came since the last one. */
    readonly idleCollectionMinReviews: number;
  };
}

export const DEFAULT_SERVE_CONFIG: ServeConfig = {
  webhook: {
    timeoutSeconds: 10,
    marginMilliseconds: 1000,
    failurePolicy: 'fail',
    denyUnmatchedNamespaces: false,
    mutate: false,
    gatekeeper: true,
    gatekeeperDefaultNamespace: '',
    shutdownDelaySeconds: 5,
    shutdownTimeoutSeconds: 20,
  },
  tls: { clientCaFile: undefined, minVersion: 'TLSv1.3' },
  verification: {
    maxSignatureAttempts: 100,
    revocation: 'online',
    revocationMaterial: undefined,
    revocationMaterialRefs: [],
  },
  cache: {
    maxEntries: 10_000,
    tagTtlSeconds: 30,
    referrersTtlSeconds: 60,
    contentMaxBytes: 64 * 1024 * 1024,
    verdictTtlSeconds: 300,
    negativeVerdictTtlSeconds: 30,
  },
  registries: {
    defaultDockerConfig: undefined,
    maxConcurrentPerRegistry: 32,
    maxHostsPerReview: 10,
    maxImagesPerReview: 50,
    maxConcurrentPerReview: 32,
    maxBufferedBytes: 64 * 1024 * 1024,
    maxBufferedBytesPerRegistry: undefined,
    hosts: {},
  },
  kubernetes: {
    defaultPullSecret: undefined,
    writeStatus: true,
    statusQps: 200,
    statusBurst: 400,
    trustMaterialSelector: 'portcullis.dev/trust-material=true',
  },
  logging: { level: 'info' },
  plugins: { directory: undefined, timeoutSeconds: 5, maxConcurrent: 4, environment: [] },
  dns: { servers: [], timeoutMilliseconds: undefined, attempts: undefined, maxTtlSeconds: 300, negativeTtlSeconds: 5 },
  audit: {
    intervalSeconds: 0,
    onPolicyChange: true,
    minGapSeconds: 30,
    concurrency: 4,
    pageSize: 250,
    leaseName: 'portcullis-audit',
    leaseNamespace: '',
    leaseDurationSeconds: 15,
  },
  metrics: { port: 0, host: '' },
  events: { enabled: true, burst: 10, perSecond: 1 },
  memory: { idleCollectionSeconds: 5, idleCollectionMinReviews: 100 },
};

const SHAPE: Record<keyof ServeConfig, Shape> = {
  webhook: {
    timeoutSeconds: 'number',
    marginMilliseconds: 'number',
    failurePolicy: ['fail', 'ignore'],
    denyUnmatchedNamespaces: 'boolean',
    mutate: 'boolean',
    gatekeeper: 'boolean',
    gatekeeperDefaultNamespace: 'string',
    shutdownDelaySeconds: 'number',
    shutdownTimeoutSeconds: 'number',
  },
  tls: { clientCaFile: 'string', minVersion: ['TLSv1.2', 'TLSv1.3'] },
  verification: {
    maxSignatureAttempts: 'number',
    revocation: ['online', 'offline'],
    revocationMaterial: 'string',
    revocationMaterialRefs: 'objectRefs',
  },
  cache: {
    maxEntries: 'number',
    tagTtlSeconds: 'number',
    referrersTtlSeconds: 'number',
    contentMaxBytes: 'number',
    verdictTtlSeconds: 'number',
    negativeVerdictTtlSeconds: 'number',
  },
  registries: {
    defaultDockerConfig: 'string',
    maxConcurrentPerRegistry: 'number',
    maxHostsPerReview: 'number',
    maxImagesPerReview: 'number',
    maxConcurrentPerReview: 'number',
    maxBufferedBytes: 'number',
    maxBufferedBytesPerRegistry: 'number',
    hosts: 'hosts',
  },
  kubernetes: {
    defaultPullSecret: 'string',
    writeStatus: 'boolean',
    statusQps: 'number',
    statusBurst: 'number',
    trustMaterialSelector: 'string',
  },
  logging: { level: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  plugins: { directory: 'string', timeoutSeconds: 'number', maxConcurrent: 'number', environment: 'names' },
  dns: {
    servers: 'servers',
    timeoutMilliseconds: 'number',
    attempts: 'number',
    maxTtlSeconds: 'number',
    negativeTtlSeconds: 'number',
  },
  audit: {
    intervalSeconds: 'number',
    onPolicyChange: 'boolean',
    minGapSeconds: 'number',
    concurrency: 'number',
    pageSize: 'number',
    leaseName: 'string',
    leaseNamespace: 'string',
    leaseDurationSeconds: 'number',
  },
  metrics: { port: 'number', host: 'string' },
  events: { enabled: 'boolean', burst: 'number', perSecond: 'number' },
  memory: { idleCollectionSeconds: 'number', idleCollectionMinReviews: 'number' },
};

/**
 * Validates a parsed configuration document and fills in the defaults. Unknown keys are errors (typos must not pass
 * silently).
 */
export function resolveServeConfig(doc: unknown): ServeConfig {
  if (doc === undefined || doc === null) return DEFAULT_SERVE_CONFIG;
  if (!isRecord(doc)) throw invalid('(root)', 'must be a mapping');
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, shape] of Object.entries(SHAPE)) {
    const given = doc[section];
    const defaults = DEFAULT_SERVE_CONFIG[section as keyof ServeConfig] as Record<string, unknown>;
    if (given === undefined || given === null) {
      out[section] = { ...defaults };
      continue;
    }
    if (!isRecord(given)) throw invalid(section, 'must be a mapping');
    const merged: Record<string, unknown> = { ...defaults };
    for (const [key, value] of Object.entries(given)) {
      const kind = shape[key];
      if (kind === undefined)
        throw invalid(`${section}.${key}`, `is not a known setting (${Object.keys(shape).join(', ')})`);
      // `null` (YAML `~` or empty) means "not set": keep the default.
      if (value !== null) merged[key] = checkValue(`${section}.${key}`, kind, value);
    }
    out[section] = merged;
  }
  for (const key of Object.keys(doc))
    if (!(key in SHAPE)) throw invalid(key, `is not a known section (${Object.keys(SHAPE).join(', ')})`);
  const config = out as unknown as ServeConfig;
  checkRanges(config, invalid);
  return config;
}

export async function loadServeConfig(file: string | undefined): Promise<ServeConfig> {
  if (file === undefined) return DEFAULT_SERVE_CONFIG;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `cannot read configuration "${file}": ${(cause as Error).message}`,
      { cause },
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (cause) {
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `configuration "${file}" is not valid YAML: ${(cause as Error).message}`,
      { cause },
    );
  }
  return resolveServeConfig(doc);
}
