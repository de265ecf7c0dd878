export { NoopMetrics, PromMetrics } from './metrics.js';
export type { AdmissionLabels, AdmissionResult, Endpoint, Metrics, PromMetricsOptions } from './metrics.js';
