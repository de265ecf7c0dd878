import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import type { ServeConfig } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import { Executor, observeRegistryRequests } from '../executor/index.js';
import type { Metrics } from '../metrics/index.js';
import type { PolicySnapshot } from '../policyset/index.js';
import { ProcessVerificationPlugins } from '../plugin/index.js';
import { canonicalRegistry } from '../reference/index.js';
import {
  DockerConfigCredentials,
  HostResolver,
  RegistryClient,
  isLoopbackHost,
  type PullSecretResolver,
  type RegistryTlsOptions,
} from '../registry/index.js';
import { HttpRevocationFetcher, OnlineRevocationChecker, RevocationMaterialDirectory } from '../revocation/index.js';
import { USER_AGENT } from '../util/index.js';
import type { CertificateCache } from '../x509/index.js';
import { countingRevocation } from './revocation-metrics.js';

/**
 * The verification engine of `serve`, built from the server's configuration: the registry
 * client (DNS on the event loop, TLS per host), the revocation checker, the verification
 * plugins, the executor. `serve` decides reviews with it; `audit` and `explain` build the very
 * same from the same file (`--config`), so they decide as the webhook does.
 */
export interface Engine {
  readonly executor: Executor;
  readonly registry: RegistryClient;
  /** A new policy snapshot: the revocation material it references is re-read, and the executor decides by it. */
  setSnapshot(snapshot: PolicySnapshot): void;
  stop(): Promise<void>;
}

export interface EngineOptions {
  readonly config: ServeConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly pullSecrets: PullSecretResolver;
  readonly certificateCache: CertificateCache;
}

/**
 * `registries.hosts` keyed by canonical registry name, as image references name registries
 * (src/reference): `Registry.Example:05000` in the file applies to `registry.example:5000`.
 */
export function canonicalHosts(config: ServeConfig): Map<string, ServeConfig['registries']['hosts'][string]> {
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

export async function registryTls(
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

export async function buildEngine(options: EngineOptions): Promise<Engine> {
  const { config, logger, metrics, certificateCache } = options;
  const hosts = canonicalHosts(config);
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
    // As many connections as registry requests in flight (HTTP/1.1 carries one at a time).
    maxConnectionsPerHost: config.registries.maxConcurrentPerRegistry,
    // One client for every review: the bytes buffered from all registries at once are bounded.
    // No one registry may hold more than its share of it (body-budget.ts).
    bodyBudget: {
      maxBytes: config.registries.maxBufferedBytes,
      ...(config.registries.maxBufferedBytesPerRegistry === undefined
        ? {}
        : { maxBytesPerRegistry: config.registries.maxBufferedBytesPerRegistry }),
    },
  });
  // OCSP responders and CRL distribution points are resolved the same way.
  const revocationDispatcher = new Agent({ connect: { lookup: resolver.lookup } });
  const defaultCredentials =
    config.registries.defaultDockerConfig === undefined
      ? undefined
      : await DockerConfigCredentials.load({ path: config.registries.defaultDockerConfig });
  // Operator-supplied CRLs and OCSP responses (files mounted in the pod), re-read every minute.
  const material =
    config.verification.revocationMaterial === undefined
      ? undefined
      : new RevocationMaterialDirectory(config.verification.revocationMaterial, (loaded) => {
          logger.info({ ...loaded.size, dir: config.verification.revocationMaterial }, 'revocation material loaded');
          for (const problem of loaded.problems) logger.warn({ problem }, 'revocation material not usable');
        });
  await material?.start(60_000);
  // …and CRLs and OCSP responses in Secrets and ConfigMaps the configuration names, re-read with each snapshot.
  const { WebhookRevocationMaterial } = await import('./revocation-refs.js');
  const suppliedMaterial = new WebhookRevocationMaterial({
    refs: config.verification.revocationMaterialRefs,
    ...(material === undefined ? {} : { directory: material }),
    onLoad: (loaded) => {
      logger.info({ ...loaded.size, refs: config.verification.revocationMaterialRefs }, 'revocation material loaded');
      for (const problem of loaded.problems) logger.warn({ problem }, 'revocation material not usable');
    },
  });
  const executor = new Executor({
    registry,
    metrics,
    pullSecrets: options.pullSecrets,
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
    revocation: countingRevocation(
      new OnlineRevocationChecker({
        fetcher: new HttpRevocationFetcher({ userAgent: USER_AGENT, dispatcher: revocationDispatcher }),
        mode: config.verification.revocation,
        certificateCache,
        ...(suppliedMaterial.configured ? { material: () => suppliedMaterial.current() } : {}),
      }),
      metrics,
    ),
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
  return {
    executor,
    registry,
    setSnapshot: (snapshot) => {
      suppliedMaterial.update(snapshot);
      executor.setSnapshot(snapshot);
    },
    stop: async () => {
      await registry.close(); // also cancels the lookups still in flight
      await revocationDispatcher.destroy().catch(() => undefined);
      material?.stop();
    },
  };
}
