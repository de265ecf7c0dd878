export { inventory, imagesOfPodSpec, WORKLOAD_KINDS } from './inventory.js';
export type {
  AuditTarget,
  CoveredObject,
  Inventory,
  ListedObject,
  WorkloadKind,
  ContainerSource,
} from './inventory.js';
export { classify, decidingVerdict, wouldDeny } from './classify.js';
export type { AuditDecision, Classified, ReportResult } from './classify.js';
export { evaluate } from './evaluate.js';
export type { AuditRow, AuditVerifier, EvaluateOptions } from './evaluate.js';
export {
  buildReports,
  REPORT_API_VERSION,
  REPORT_NAME,
  MANAGED_BY_LABEL,
  MANAGED_BY,
  NO_POLICY,
  MAX_RESULTS_PER_REPORT,
} from './policy-report.js';
export type { PolicyReportObject, ReportResultEntry, Summary } from './policy-report.js';
