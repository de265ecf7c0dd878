import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ServeConfig } from '../config/index.js';
import type { PortcullisError } from '../errors/index.js';
import {
  KubernetesPolicySource,
  KubernetesPullSecretResolver,
  StatusWriter,
  staticLeadership,
  type Leadership,
  type TrimmedObject,
} from '../kube/index.js';
import type { PolicySource } from '../policyset/index.js';
import type { PullSecretResolver } from '../registry/index.js';
import type { CertificateCache } from '../x509/index.js';

/** The cluster source of policies, its status writer, and pull secrets read from the API. */
export function kubernetesParts(
  kubeConfig: KubeConfig,
  config: ServeConfig,
  certificateCache: CertificateCache,
  logger: Logger,
  /** false for the CLI's commands: they read the policies and never write their status. */
  writeStatus = config.kubernetes.writeStatus,
  /** Every reconciliation's objects (serve keeps the uids of the policy resources, for Events). */
  onObjects?: (objects: readonly TrimmedObject[]) => void,
  /** Who writes statuses among the replicas (serve: the audit's Lease); default the writeStatus flag alone. */
  leadership?: Leadership,
): {
  source: PolicySource & { whenReady(): Promise<void> };
  pullSecrets: PullSecretResolver;
  /** Resolves when the start-up burst is over: the first snapshot in force and its statuses written. */
  settled: () => Promise<void>;
} {
  const onError = (error: PortcullisError): void =>
    logger.warn({ code: error.code, err: error.message }, 'kubernetes source');
  // writeStatus false: never; else the Lease holder when there is an election, every replica otherwise.
  const status = new StatusWriter({
    kubeConfig,
    leadership: writeStatus && leadership !== undefined ? leadership : staticLeadership(writeStatus),
    qps: config.kubernetes.statusQps,
    burst: config.kubernetes.statusBurst,
    onError,
  });
  const source = new KubernetesPolicySource({
    kubeConfig,
    certificateCache,
    trustMaterialSelector: config.kubernetes.trustMaterialSelector,
    onError,
    onReconcile: (snapshot, objects) => {
      status.reconcile(snapshot, objects);
      onObjects?.(objects);
    },
    onStatusChange: (snapshot, object) => status.observe(snapshot, object),
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
      whenReady: () => source.whenReady(),
      stop: async () => {
        await source.stop();
        await status.stop();
      },
    },
    pullSecrets,
    settled: async () => {
      await source.whenReady();
      await status.idle();
    },
  };
}
