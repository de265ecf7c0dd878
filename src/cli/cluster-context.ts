import type { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { loadServeConfig, type ServeConfig } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import { createLogging, type Logging } from '../log/index.js';
import { NoopMetrics } from '../metrics/index.js';
import { DirectoryPolicySource } from '../policy-source/index.js';
import { loadKubeConfig, PagedLister, SERVICE_ACCOUNT_DIR } from '../kube/index.js';
import type { PolicySnapshot, PolicySource } from '../policyset/index.js';
import { ResourcePullSecretResolver, type PullSecretResolver } from '../registry/index.js';
import { CertificateCache } from '../x509/index.js';
import { buildEngine, type Engine } from './engine.js';
import { kubernetesParts } from './kube-parts.js';

/**
 * What `audit` and `explain` run on: the webhook's engine built from the server's configuration
 * file (`--config`, as `serve --config`), the policies from the cluster or from `--policies DIR`
 * (policies not applied yet), and the cluster — with `--kubeconfig FILE`, else the pod's service
 * account when run in a pod.
 */
export interface ClusterOptions {
  readonly kubeconfig?: string | undefined;
  readonly policies?: string | undefined;
  readonly config?: string | undefined;
  /**
   * The environment: without --kubeconfig the cluster is found as kubectl finds it — `$KUBECONFIG`
   * (its first existing file), else `~/.kube/config`, else the pod's service account — unless
   * only `--policies DIR` was asked for (explain works offline then).
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Seconds to wait for the cluster's policies to be listed. Default 30. */
  readonly waitSeconds?: number;
}

export interface ClusterContext {
  readonly config: ServeConfig;
  readonly engine: Engine;
  readonly snapshot: PolicySnapshot;
  /** Undefined when neither --kubeconfig nor a service account is there (explain --policies only). */
  readonly kubeConfig: KubeConfig | undefined;
  close(): Promise<void>;
}

/** kubectl's default kubeconfig: the first existing file of `$KUBECONFIG`, else `~/.kube/config`. */
export function defaultKubeconfig(env: NodeJS.ProcessEnv): string | undefined {
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (listed.length > 0) return listed.find((f) => existsSync(f)) ?? listed[0];
  const home = env.HOME ?? env.USERPROFILE;
  const file = home === undefined || home === '' ? undefined : join(home, '.kube', 'config');
  return file !== undefined && existsSync(file) ? file : undefined;
}

function clusterConnection(options: ClusterOptions, needCluster: boolean): KubeConfig | undefined {
  const kubeconfig =
    options.kubeconfig ??
    (options.env !== undefined && (needCluster || options.policies === undefined)
      ? defaultKubeconfig(options.env)
      : undefined);
  if (kubeconfig !== undefined) return loadKubeConfig({ kubeconfig });
  if (existsSync(`${SERVICE_ACCOUNT_DIR}/token`)) return loadKubeConfig({ inCluster: true });
  return undefined;
}

async function clusterNamespaces(kubeConfig: KubeConfig, pageSize: number): Promise<unknown[]> {
  const namespaces: unknown[] = [];
  for await (const ns of new PagedLister(kubeConfig).list({ apiVersions: ['v1'], kind: 'Namespace', pageSize })) {
    namespaces.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.metadata?.name, labels: ns.metadata?.labels ?? {} },
    });
  }
  return namespaces;
}

export async function openClusterContext(options: ClusterOptions, needCluster: boolean): Promise<ClusterContext> {
  const config = await loadServeConfig(options.config);
  const kubeConfig = clusterConnection(options, needCluster);
  if (kubeConfig === undefined && (needCluster || options.policies === undefined)) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      needCluster
        ? 'no cluster: give --kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account (the workloads are read from the cluster)'
        : 'no cluster: give --kubeconfig FILE or set KUBECONFIG to read the policies from the cluster, or --policies DIR',
    );
  }
  // Problems of the policy source go to standard error as JSON lines, as the server logs them.
  const logging: Logging = createLogging({ level: 'warn', fd: 2 });
  const certificateCache = new CertificateCache();
  let source: PolicySource & { whenReady?(): Promise<void> };
  let pullSecrets: PullSecretResolver;
  const directorySecrets = new ResourcePullSecretResolver();
  if (options.policies !== undefined) {
    source = new DirectoryPolicySource({
      directory: options.policies,
      // The policies are the directory's, the namespaces the cluster's: a namespaceSelector of a
      // policy not applied yet must select what it will select once applied.
      ...(kubeConfig === undefined ? {} : { namespaces: await clusterNamespaces(kubeConfig, config.audit.pageSize) }),
      certificateCache,
      onObjects: (objects) => directorySecrets.update(objects),
      rescanIntervalMs: 0,
      watch: false,
    });
    pullSecrets = directorySecrets;
    if (kubeConfig !== undefined)
      pullSecrets = kubernetesParts(kubeConfig, config, certificateCache, logging.logger, false).pullSecrets;
  } else {
    // The CLI reads the policies and never writes their status.
    const parts = kubernetesParts(kubeConfig as KubeConfig, config, certificateCache, logging.logger, false);
    source = parts.source;
    pullSecrets = parts.pullSecrets;
  }
  const engine = await buildEngine({
    config,
    logger: logging.logger,
    metrics: new NoopMetrics(),
    pullSecrets,
    certificateCache,
  });
  const close = async (): Promise<void> => {
    await source.stop();
    await engine.stop();
    await logging.flush();
  };
  try {
    await source.start((snapshot) => engine.setSnapshot(snapshot));
    if (source.whenReady !== undefined) {
      const waitMs = (options.waitSeconds ?? 30) * 1000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        source.whenReady(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new PortcullisError(
                  'ERR_KUBE_API',
                  `the policy resources could not be listed within ${waitMs / 1000} s (is the API server reachable, are the CRDs installed, may this identity list them?)`,
                ),
              ),
            waitMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    }
  } catch (error) {
    await close();
    throw error;
  }
  const snapshot = source.current();
  if (snapshot === undefined) {
    await close();
    throw new PortcullisError('ERR_INTERNAL', 'no policy snapshot was built');
  }
  return { config, engine, snapshot, kubeConfig, close };
}
