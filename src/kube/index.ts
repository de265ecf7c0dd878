export {
  loadKubeConfig,
  inClusterNamespace,
  makeClients,
  httpStatusOf,
  describeApiError,
  SERVICE_ACCOUNT_DIR,
} from './client.js';
export type { KubeConnection, KubeClients } from './client.js';
export {
  KubernetesPolicySource,
  DEFAULT_MAX_OBJECTS_PER_KIND,
  DEFAULT_MAX_NAMESPACES,
  DEFAULT_MAX_OBJECT_BYTES,
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_RETRY_MAX_MS,
} from './source.js';
export type {
  KubernetesPolicySourceOptions,
  InformerFactory,
  InformerHooks,
  FeedDescription,
  FeedState,
  KubeInformer,
} from './source.js';
export {
  desiredStatus,
  statusPatch,
  statusMessage,
  kubeStatusApi,
  formatTime,
  MAX_MESSAGE_LENGTH,
  DEFAULT_STATUS_QPS,
  DEFAULT_STATUS_BURST,
  DEFAULT_STATUS_MAX_IN_FLIGHT,
} from './status.js';
export type { StatusApi, StatusPatch, DesiredStatus, ReadyCondition } from './status.js';
export { StatusWriter, staticLeadership } from './status-writer.js';
export type { StatusWriterOptions, StatusWriterStats, Leadership } from './status-writer.js';
export { KubeRequester, KubeApiError } from './requests.js';
export type { KubeRequestOptions } from './requests.js';
export { KubernetesPullSecretResolver, parseSecretRef, kubePullSecretApi } from './pull-secrets.js';
export type { PullSecretApi, KubernetesPullSecretResolverOptions, ResolveOptions } from './pull-secrets.js';
export {
  KINDS,
  WATCHED_KINDS,
  OUR_KINDS,
  TRUST_MATERIAL_LABEL,
  TRUST_MATERIAL_SELECTOR,
  trimObject,
  resourceOf,
} from './objects.js';
export type { WatchedKind, OurKind, TrimmedObject, KindInfo } from './objects.js';
export { PagedLister, DEFAULT_PAGE_SIZE } from './paged-list.js';
export type { ListOptions } from './paged-list.js';
export { LeaderElector, kubeLeaseApi, microTime } from './lease.js';
export type { LeaseApi, LeaseObject, LeaderElectorOptions } from './lease.js';
export { PolicyReportWriter } from './policy-reports.js';
export type { ReportObject, ReportWriteResult } from './policy-reports.js';
export { EventRecorder, kubeEventApi } from './events.js';
export type { EventApi, EventInput, EventRegarding, EventRecorderOptions, EventRecorderStats } from './events.js';
