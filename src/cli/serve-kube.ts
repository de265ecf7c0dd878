import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ServeConfig } from '../config/index.js';
import type { PortcullisError } from '../errors/index.js';
import type { Executor } from '../executor/index.js';
import { LeaderElector, PagedLister, PolicyReportWriter, inClusterNamespace, kubeLeaseApi } from '../kube/index.js';
import type { PromMetrics } from '../metrics/index.js';
import { BackgroundAudit } from './background-audit.js';

// The Kubernetes side of `serve` (--kubernetes, --kubeconfig), which serve.ts imports only then:
// the Kubernetes client is about 800 modules and 14 MB of source, which a server reading its
// policies from a directory does not need (README, Performance: memory).
export { EventRecorder, kubeEventApi, loadKubeConfig } from '../kube/index.js';
export { kubernetesParts } from './kube-parts.js';

export function leaderElector(
  kubeConfig: KubeConfig,
  config: ServeConfig,
  logger: Logger,
  identity: string,
  onError: (error: PortcullisError) => void,
): LeaderElector {
  const namespace =
    config.audit.leaseNamespace !== '' ? config.audit.leaseNamespace : (inClusterNamespace() ?? 'default');
  return new LeaderElector({
    api: kubeLeaseApi(kubeConfig),
    namespace,
    name: config.audit.leaseName,
    identity,
    leaseDurationSeconds: config.audit.leaseDurationSeconds,
    onStartedLeading: () =>
      logger.info({ lease: `${namespace}/${config.audit.leaseName}`, identity }, 'audit: leading'),
    onStoppedLeading: () =>
      logger.info({ lease: `${namespace}/${config.audit.leaseName}`, identity }, 'audit: no longer leading'),
    onError,
  });
}

export function backgroundAudit(
  kubeConfig: KubeConfig,
  config: ServeConfig,
  executor: Executor,
  metrics: PromMetrics,
  logger: Logger,
  elector: LeaderElector,
): BackgroundAudit {
  return new BackgroundAudit({
    lister: new PagedLister(kubeConfig),
    writer: new PolicyReportWriter(kubeConfig),
    elector,
    verifier: executor,
    snapshot: () => executor.snapshot,
    intervalMs: config.audit.intervalSeconds * 1000,
    onPolicyChange: config.audit.onPolicyChange,
    minGapMs: config.audit.minGapSeconds * 1000,
    perImageTimeoutMs: config.webhook.timeoutSeconds * 1000,
    concurrency: config.audit.concurrency,
    pageSize: config.audit.pageSize,
    metrics,
    logger,
  });
}
