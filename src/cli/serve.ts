import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ServeConfig } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import type { Executor } from '../executor/index.js';
import { buildApp, ensureDevCertificate, startMetricsServer, startServer, type MetricsServer } from '../http/index.js';
import { createLogging, type Logging } from '../log/index.js';
import { PromMetrics } from '../metrics/index.js';
import { DirectoryPolicySource } from '../policy-source/index.js';
import type { EventRecorder } from '../kube/index.js';
import type { PolicySnapshot, PolicySource } from '../policyset/index.js';
import { ResourcePullSecretResolver, type PullSecretResolver } from '../registry/index.js';
import { CertificateCache } from '../x509/index.js';
import type { BackgroundAudit } from './background-audit.js';
import { collectGarbage, shrinkYoungGeneration } from './collect.js';
import { buildEngine, canonicalHosts } from './engine.js';
import { IdleCollector, withIdleTracking } from './idle-collector.js';
import { recordInvalid, withDenialEvents } from './policy-events.js';
import { VERSION } from './version.js';

export interface ServeOptions {
  readonly policies?: string;
  /** Read policies from the Kubernetes API: in-cluster, or with this kubeconfig. */
  readonly kubernetes?: { readonly kubeconfig?: string };
  readonly port: number;
  readonly host: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly devCertDir: string;
  readonly config: ServeConfig;
  /** The policy source (the Kubernetes one with --kubernetes, or a test's); default the directory source. */
  readonly source?: PolicySource;
  readonly pullSecrets?: PullSecretResolver;
  /** Where the JSON log lines go. Default 1 (stdout). */
  readonly logFd?: number;
  /** This replica's name in Leases and Events. Default $POD_NAME (the chart sets it), else host name and pid. */
  readonly identity?: string;
}

export interface RunningWebhook {
  readonly url: string;
  readonly port: number;
  /** The development CA a caller must trust, when no --tls-cert was given. */
  readonly devCaFile: string | undefined;
  readonly executor: Executor;
  /** The plain-HTTP /metrics URL, when `metrics.port` is set. */
  readonly metricsUrl: string | undefined;
  /** The background audit, when it runs (tests). */
  readonly audit: BackgroundAudit | undefined;
  stop(): Promise<void>;
}

/**
 * Builds the whole webhook (the composition root of `portcullis serve`): configuration →
 * engine (registry client, revocation checker, executor), policy source, fastify app, HTTPS
 * server; with the Kubernetes API also Events on the policies and the background audit.
 */
export async function startWebhook(options: ServeOptions): Promise<RunningWebhook> {
  // One JSON line per review, written in batches (at most 50 ms late) through one destination; flushed on stop.
  const logging = createLogging({
    level: options.config.logging.level,
    ...(options.logFd === undefined ? {} : { fd: options.logFd }),
  });
  try {
    return await start(options, logging);
  } catch (error) {
    await logging.flush(); // what was logged before the failure (policy errors) is not lost
    throw error;
  }
}

/** This replica's name in Leases and Events: the pod's name (the chart sets POD_NAME), else the host's. */
function replicaIdentity(): string {
  const pod = process.env.POD_NAME;
  return pod !== undefined && pod !== '' ? pod : `${hostname()}-${process.pid}`;
}

async function start(options: ServeOptions, logging: Logging): Promise<RunningWebhook> {
  const { config } = options;
  const logger = logging.logger;
  // Registry hosts in the configuration always get their own label value; others only while recently successful.
  const metrics = new PromMetrics({ registryHosts: [...canonicalHosts(config).keys()], version: VERSION });
  const certificateCache = new CertificateCache();
  const directorySecrets = new ResourcePullSecretResolver();
  let pullSecretsFromCluster: PullSecretResolver | undefined;
  let source = options.source;
  // The Kubernetes client (about 800 modules, 14 MB of source) is loaded only to talk to the API.
  const kube = options.kubernetes === undefined ? undefined : await import('./serve-kube.js');
  const kubeConfig =
    options.kubernetes === undefined || kube === undefined
      ? undefined
      : kube.loadKubeConfig(
          options.kubernetes.kubeconfig === undefined
            ? { inCluster: true }
            : { kubeconfig: options.kubernetes.kubeconfig },
        );
  // The uids of the policy resources, for the Events about them (kubectl describe matches by uid).
  const uids = new Map<string, string>();
  const uidKey = (kind: string, namespace: string | undefined, name: string): string =>
    `${kind}\u0000${namespace ?? ''}\u0000${name}`;
  let settled: (() => Promise<void>) | undefined;
  const identity = options.identity ?? replicaIdentity();
  const onKubeError = (error: PortcullisError): void =>
    logger.warn({ code: error.code, err: error.message }, 'kubernetes');
  // One Lease decides which replica audits and writes statuses (started with the audit).
  const elector =
    kube === undefined || kubeConfig === undefined || config.audit.intervalSeconds <= 0
      ? undefined
      : kube.leaderElector(kubeConfig, config, logger, identity, onKubeError);
  if (source === undefined && kube !== undefined && kubeConfig !== undefined) {
    const parts = kube.kubernetesParts(
      kubeConfig,
      config,
      certificateCache,
      logger,
      config.kubernetes.writeStatus,
      (objects) => {
        uids.clear();
        for (const o of objects)
          if (o.metadata.uid !== undefined)
            uids.set(uidKey(o.kind, o.metadata.namespace, o.metadata.name), o.metadata.uid);
      },
      elector,
    );
    source = parts.source;
    settled = parts.settled;
    pullSecretsFromCluster = parts.pullSecrets;
  }
  const pullSecrets = options.pullSecrets ?? pullSecretsFromCluster ?? directorySecrets;
  const engine = await buildEngine({ config, logger, metrics, pullSecrets, certificateCache });
  const { executor } = engine;

  if (source === undefined) {
    if (options.policies === undefined)
      throw new PortcullisError('ERR_INPUT_INVALID', 'serve needs --policies DIR, --kubernetes or --kubeconfig FILE');
    source = new DirectoryPolicySource({
      directory: options.policies,
      certificateCache,
      // kubernetes.io/dockerconfigjson Secrets in the directory serve as the pods' imagePullSecrets.
      onObjects: (objects) => directorySecrets.update(objects),
      onError: (error) =>
        logger.error(
          { code: error.code, err: error.message },
          'policy source error; the last good snapshot stays in force',
        ),
    });
  }

  const events: EventRecorder | undefined =
    kube === undefined || kubeConfig === undefined || !config.events.enabled
      ? undefined
      : new kube.EventRecorder({
          api: kube.kubeEventApi(kubeConfig),
          instance: identity,
          burst: config.events.burst,
          perSecond: config.events.perSecond,
          onError: onKubeError,
          uidOf: (r) => uids.get(uidKey(r.kind, r.namespace, r.name)),
        });
  const audit =
    kube === undefined || kubeConfig === undefined || elector === undefined
      ? undefined
      : kube.backgroundAudit(kubeConfig, config, executor, metrics, logger, elector);

  let firstSnapshot: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (firstSnapshot = resolve));
  // After the start-up burst (the first snapshot; with the Kubernetes source, its status writes):
  // one full collection gives back what reading and writing thousands of objects left behind.
  let collection: NodeJS.Timeout | undefined;
  void first
    .then(() => settled?.())
    .then(() => {
      collection = setTimeout(() => collectGarbage(), 2000);
      collection.unref();
    })
    .catch(() => undefined);
  await source.start((snapshot) => onSnapshot(snapshot));
  function onSnapshot(snapshot: PolicySnapshot): void {
    firstSnapshot();
    engine.setSnapshot(snapshot);
    const invalidByKind: Record<string, number> = {};
    for (const i of snapshot.invalid) invalidByKind[i.id.kind] = (invalidByKind[i.id.kind] ?? 0) + 1;
    metrics.setPolicySnapshot(snapshot.revision, Date.now(), invalidByKind);
    logger.info(
      {
        revision: snapshot.revision,
        documents: snapshot.documents.length,
        invalid: snapshot.invalid.map((i) => ({ ...i.id, code: i.code, reason: i.reason })),
      },
      'policy snapshot in force',
    );
    // An invalid document is something an operator must fix: a warning each, not a field of an info line.
    for (const i of snapshot.invalid)
      logger.warn(
        { ...i.id, code: i.code, reason: i.reason, revision: snapshot.revision },
        'invalid policy document: it does not take effect',
      );
    if (events !== undefined) recordInvalid(events, snapshot);
    audit?.policyChanged();
  }

  let certFile = options.tlsCert;
  let keyFile = options.tlsKey;
  let devCaFile: string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new PortcullisError('ERR_INPUT_INVALID', '--tls-cert and --tls-key go together');
  if (certFile === undefined || keyFile === undefined) {
    const dev = await ensureDevCertificate(options.devCertDir);
    certFile = dev.certFile;
    keyFile = dev.keyFile;
    devCaFile = dev.caFile;
  }
  const separateMetrics = config.metrics.port > 0;
  // After a burst of reviews, once idle: one full collection gives back the heap the burst grew.
  const idle = new IdleCollector({
    idleMs: config.memory.idleCollectionSeconds * 1000,
    minReviews: config.memory.idleCollectionMinReviews,
    collect: () => collectWhenIdle(logger, metrics),
    settle: () => settleWhenIdle(logger),
  });
  const verifier = withIdleTracking(events === undefined ? executor : withDenialEvents(executor, events), idle);
  const app = buildApp({
    verifier,
    metrics,
    logger,
    reviewLog: logging.lines,
    options: {
      webhookTimeoutMs: config.webhook.timeoutSeconds * 1000,
      marginMs: config.webhook.marginMilliseconds,
      mutate: config.webhook.mutate,
      gatekeeper: config.webhook.gatekeeper,
      gatekeeperDefaultNamespace: config.webhook.gatekeeperDefaultNamespace,
      serveMetrics: !separateMetrics,
    },
  });
  let metricsServer: MetricsServer | undefined;
  if (separateMetrics) {
    metricsServer = await startMetricsServer({
      port: config.metrics.port,
      host: config.metrics.host === '' ? options.host : config.metrics.host,
      metrics,
    });
  }
  const server = await startServer(app, {
    port: options.port,
    host: options.host,
    logger,
    shutdownDelayMs: config.webhook.shutdownDelaySeconds * 1000,
    shutdownTimeoutMs: config.webhook.shutdownTimeoutSeconds * 1000,
    tls: {
      certFile,
      keyFile,
      minVersion: config.tls.minVersion,
      ...(config.tls.clientCaFile === undefined ? {} : { clientCaFile: config.tls.clientCaFile }),
    },
  });
  if (config.tls.clientCaFile === undefined) warnUnauthenticated(logger);
  audit?.start();
  return {
    url: server.url,
    port: server.port,
    devCaFile,
    executor,
    metricsUrl: metricsServer?.url,
    audit,
    stop: async () => {
      if (collection !== undefined) clearTimeout(collection);
      idle.stop();
      await audit?.stop(); // releases the Lease: another replica takes over at once
      await server.stop();
      await metricsServer?.stop();
      await source.stop();
      await events?.stop();
      await engine.stop();
      await logging.flush();
    },
  };
}

/** The idle collection, with what it gave back: a log line and portcullis_idle_collections_total. */
function collectWhenIdle(logger: Logger, metrics: PromMetrics): void {
  const before = process.memoryUsage();
  const started = performance.now();
  if (!collectGarbage()) {
    logger.warn('idle: V8 refused the full garbage collection');
    return;
  }
  const ms = performance.now() - started;
  const after = process.memoryUsage();
  const mib = (bytes: number): number => Math.round(bytes / 1048576);
  metrics.observeIdleCollection();
  logger.info(
    {
      ms: Math.round(ms),
      rssMiB: [mib(before.rss), mib(after.rss)],
      heapUsedMiB: [mib(before.heapUsed), mib(after.heapUsed)],
      heapTotalMiB: [mib(before.heapTotal), mib(after.heapTotal)],
    },
    'idle after a burst of reviews: full garbage collection',
  );
}

/** Seconds after the idle collection, still idle: the young generation given back too (collect.ts). */
function settleWhenIdle(logger: Logger): void {
  const before = process.memoryUsage();
  if (!shrinkYoungGeneration()) return;
  const after = process.memoryUsage();
  const mib = (bytes: number): number => Math.round(bytes / 1048576);
  logger.info(
    { rssMiB: [mib(before.rss), mib(after.rss)], heapTotalMiB: [mib(before.heapTotal), mib(after.heapTotal)] },
    'idle after a burst of reviews: young generation collected',
  );
}

/**
 * Without tls.clientCaFile anyone who can reach the port may send reviews: they learn whether an
 * image exists and is signed, through the registry credentials of whatever namespace and pull
 * secrets their review names. Said once at start-up, with what to do (docs/install.md).
 */
function warnUnauthenticated(logger: Logger): void {
  logger.warn(
    { see: 'docs/install.md#who-may-call-the-webhook' },
    'unauthenticated: /validate, /mutate and /gatekeeper/v1/* answer anyone who can reach this port (no tls.clientCaFile), ' +
      'who can then learn whether an image exists and is signed, with the registry credentials of any namespace their review names; ' +
      "require the API server's client certificate (tls.clientCaFile) or allow only the API server in with a NetworkPolicy",
  );
}
