import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ServeConfig } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import { Executor, observeRegistryRequests } from '../executor/index.js';
import { buildApp, ensureDevCertificate, startServer } from '../http/index.js';
import { createLogging, type Logging } from '../log/index.js';
import { PromMetrics } from '../metrics/index.js';
import { ProcessVerificationPlugins } from '../plugin/index.js';
import { DirectoryPolicySource } from '../policy-source/index.js';
import { KubernetesPolicySource, KubernetesPullSecretResolver, StatusWriter, loadKubeConfig } from '../kube/index.js';
import type { PolicySource } from '../policyset/index.js';
import { Agent } from 'undici';
import { canonicalRegistry } from '../reference/index.js';
import {
  DockerConfigCredentials,
  HostResolver,
  RegistryClient,
  ResourcePullSecretResolver,
  isLoopbackHost,
  type PullSecretResolver,
  type RegistryTlsOptions,
} from '../registry/index.js';
import { HttpRevocationFetcher, OnlineRevocationChecker, RevocationMaterialDirectory } from '../revocation/index.js';
import { CertificateCache } from '../x509/index.js';
import { USER_AGENT } from '../util/index.js';

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
}

export interface RunningWebhook {
  readonly url: string;
  readonly port: number;
  /** The development CA a caller must trust, when no --tls-cert was given. */
  readonly devCaFile: string | undefined;
  readonly executor: Executor;
  stop(): Promise<void>;
}

/**
 * `registries.hosts` keyed by canonical registry name, as image references name registries
 * (src/reference): `Registry.Example:05000` in the file applies to `registry.example:5000`.
 */
function canonicalHosts(config: ServeConfig): Map<string, ServeConfig['registries']['hosts'][string]> {
  const out = new Map<string, ServeConfig['registries']['hosts'][string]>();
  for (const [host, settings] of Object.entries(config.registries.hosts)) {
    const canonical = canonicalRegistry(host);
    if ('error' in canonical)
      throw new PortcullisError('ERR_CONFIG_INVALID', `registries.hosts.${host}: ${canonical.error}`);
    if (out.has(canonical.value))
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        `registries.hosts names ${canonical.value} twice (as ${host} and another spelling)`,
      );
    out.set(canonical.value, settings);
  }
  return out;
}

async function registryTls(
  hosts: ReadonlyMap<string, ServeConfig['registries']['hosts'][string]>,
): Promise<Map<string, RegistryTlsOptions>> {
  const out = new Map<string, RegistryTlsOptions>();
  for (const [host, settings] of hosts) {
    if (settings.caFile === undefined) continue;
    try {
      out.set(host, { ca: await readFile(settings.caFile, 'utf8') });
    } catch (cause) {
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        `registries.hosts.${host}.caFile "${settings.caFile}" cannot be read: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  return out;
}

/** The cluster source of policies, its status writer, and pull secrets read from the API. */
function kubernetesParts(
  kubernetes: { readonly kubeconfig?: string },
  config: ServeConfig,
  certificateCache: CertificateCache,
  logger: Logger,
): { source: PolicySource; pullSecrets: PullSecretResolver } {
  const kubeConfig = loadKubeConfig(
    kubernetes.kubeconfig === undefined ? { inCluster: true } : { kubeconfig: kubernetes.kubeconfig },
  );
  const onError = (error: PortcullisError): void =>
    logger.warn({ code: error.code, err: error.message }, 'kubernetes source');
  const status = new StatusWriter({ kubeConfig, enabled: config.kubernetes.writeStatus, onError });
  const source = new KubernetesPolicySource({
    kubeConfig,
    certificateCache,
    trustMaterialSelector: config.kubernetes.trustMaterialSelector,
    onError,
    onReconcile: (snapshot, objects) => status.reconcile(snapshot, objects),
  });
  const pullSecrets = new KubernetesPullSecretResolver({
    kubeConfig,
    ...(config.kubernetes.defaultPullSecret === undefined
      ? {}
      : { defaultSecret: config.kubernetes.defaultPullSecret }),
  });
  return {
    source: {
      start: (onSnapshot) => source.start(onSnapshot),
      current: () => source.current(),
      stop: async () => {
        await source.stop();
        await status.stop();
      },
    },
    pullSecrets,
  };
}

/**
 * Builds the whole webhook (the composition root of `portcullis serve`): configuration →
 * registry client, revocation checker, executor, policy source, fastify app, HTTPS server.
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

async function start(options: ServeOptions, logging: Logging): Promise<RunningWebhook> {
  const { config } = options;
  const logger = logging.logger;
  // Registry hosts in the configuration always get their own label value; others only while recently successful.
  const hosts = canonicalHosts(config);
  const metrics = new PromMetrics({ registryHosts: [...hosts.keys()] });
  const tls = await registryTls(hosts);
  // Pod specs name the registry hosts: resolve them on the event loop (c-ares), never on the
  // libuv thread pool, where a pod naming hundreds of unresolvable hosts would stall everything.
  const resolver = new HostResolver({
    ...(config.dns.servers.length === 0 ? {} : { servers: config.dns.servers }),
    ...(config.dns.timeoutMilliseconds === undefined ? {} : { timeoutMs: config.dns.timeoutMilliseconds }),
    ...(config.dns.attempts === undefined ? {} : { attempts: config.dns.attempts }),
    maxTtlMs: config.dns.maxTtlSeconds * 1000,
    negativeTtlMs: config.dns.negativeTtlSeconds * 1000,
  });
  const registry = new RegistryClient({
    userAgent: USER_AGENT,
    // Loopback registries speak plain HTTP unless a CA is configured for them; others only when named.
    plainHttp: (host) => hosts.get(host)?.plainHttp === true || (isLoopbackHost(host) && !tls.has(host)),
    tls: (host) => tls.get(host),
    onRequest: observeRegistryRequests(metrics),
    resolver,
  });
  // OCSP responders and CRL distribution points are resolved the same way.
  const revocationDispatcher = new Agent({ connect: { lookup: resolver.lookup } });
  const defaultCredentials =
    config.registries.defaultDockerConfig === undefined
      ? undefined
      : await DockerConfigCredentials.load({ path: config.registries.defaultDockerConfig });
  const certificateCache = new CertificateCache();
  // Operator-supplied CRLs and OCSP responses (files mounted in the pod), re-read every minute.
  const material =
    config.verification.revocationMaterial === undefined
      ? undefined
      : new RevocationMaterialDirectory(config.verification.revocationMaterial, (loaded) => {
          logger.info({ ...loaded.size, dir: config.verification.revocationMaterial }, 'revocation material loaded');
          for (const problem of loaded.problems) logger.warn({ problem }, 'revocation material not usable');
        });
  await material?.start(60_000);
  const directorySecrets = new ResourcePullSecretResolver();
  let pullSecretsFromCluster: PullSecretResolver | undefined;
  let source = options.source;
  if (source === undefined && options.kubernetes !== undefined) {
    const kube = kubernetesParts(options.kubernetes, config, certificateCache, logger);
    source = kube.source;
    pullSecretsFromCluster = kube.pullSecrets;
  }
  const pullSecrets = options.pullSecrets ?? pullSecretsFromCluster ?? directorySecrets;
  const executor = new Executor({
    registry,
    metrics,
    pullSecrets,
    certificateCache,
    failurePolicy: config.webhook.failurePolicy,
    denyUnmatchedNamespaces: config.webhook.denyUnmatchedNamespaces,
    maxConcurrentPerRegistry: config.registries.maxConcurrentPerRegistry,
    reviewLimits: {
      maxHosts: config.registries.maxHostsPerReview,
      maxImages: config.registries.maxImagesPerReview,
      maxConcurrent: config.registries.maxConcurrentPerReview,
    },
    maxSignatureAttempts: config.verification.maxSignatureAttempts,
    tagCacheTtlMs: config.cache.tagTtlSeconds * 1000,
    tagCacheMaxEntries: config.cache.maxEntries,
    referrersCacheMaxEntries: config.cache.maxEntries,
    verdictCacheMaxEntries: config.cache.maxEntries,
    referrersCacheTtlMs: config.cache.referrersTtlSeconds * 1000,
    contentCacheMaxBytes: config.cache.contentMaxBytes,
    verdictCacheTtlMs: config.cache.verdictTtlSeconds * 1000,
    negativeVerdictTtlMs: config.cache.negativeVerdictTtlSeconds * 1000,
    revocation: new OnlineRevocationChecker({
      fetcher: new HttpRevocationFetcher({ userAgent: USER_AGENT, dispatcher: revocationDispatcher }),
      mode: config.verification.revocation,
      certificateCache,
      ...(material === undefined ? {} : { material: () => material.current() }),
    }),
    ...(defaultCredentials === undefined ? {} : { defaultCredentials }),
    ...(config.plugins.directory === undefined
      ? {}
      : {
          verificationPlugins: new ProcessVerificationPlugins({
            directory: config.plugins.directory,
            timeoutMs: config.plugins.timeoutSeconds * 1000,
            maxConcurrent: config.plugins.maxConcurrent,
            environment: config.plugins.environment,
          }),
        }),
  });

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
  await source.start((snapshot) => {
    executor.setSnapshot(snapshot);
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
  });

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
  const app = buildApp({
    verifier: executor,
    metrics,
    logger,
    reviewLog: logging.lines,
    options: {
      webhookTimeoutMs: config.webhook.timeoutSeconds * 1000,
      marginMs: config.webhook.marginMilliseconds,
      mutate: config.webhook.mutate,
      gatekeeper: config.webhook.gatekeeper,
      gatekeeperDefaultNamespace: config.webhook.gatekeeperDefaultNamespace,
    },
  });
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
  return {
    url: server.url,
    port: server.port,
    devCaFile,
    executor,
    stop: async () => {
      await server.stop();
      await source.stop();
      await registry.close(); // also cancels the lookups still in flight
      await revocationDispatcher.destroy().catch(() => undefined);
      material?.stop();
      await logging.flush();
    },
  };
}
