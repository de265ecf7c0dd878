export { NoopMetrics, PromMetrics } from './metrics.js';
export type { AdmissionLabels, AdmissionResult, Endpoint, Metrics, PromMetricsOptions } from './metrics.js';
export { BoundedHosts, KIND_LABELS, OPERATION_LABELS, kindLabel, operationLabel, statusLabel } from './labels.js';
