import type { AuditRow } from './evaluate.js';
import type { ReportResult } from './classify.js';

/**
 * The audit's results as wg-policy reports (wgpolicyk8s.io/v1alpha2, the schema Kyverno, Policy
 * Reporter and the Trivy operator write): one `PolicyReport` per namespace with one result per
 * workload container image, and one `ClusterPolicyReport` whose summary counts every namespace's
 * results (its results are those of images no namespace report can hold: none today, so it is
 * the cluster's one-glance view). Pure: rows in, objects out; the server writes them (src/kube).
 */

export const REPORT_API_VERSION = 'wgpolicyk8s.io/v1alpha2';
/** The name of every report Portcullis writes (one per namespace, and the cluster one). */
export const REPORT_NAME = 'portcullis-audit';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'portcullis';
/** The `policy` of a result no policy decided (no policy applies to the image). */
export const NO_POLICY = 'none';
/** Results per report at most: a report is one object of etcd (1.5 MiB); the rest are counted, not listed. */
export const MAX_RESULTS_PER_REPORT = 1000;

export type Summary = Record<ReportResult, number>;

export interface ReportResultEntry {
  readonly source: 'portcullis';
  readonly policy: string;
  readonly rule?: string;
  readonly result: ReportResult;
  readonly message: string;
  readonly scored: true;
  readonly resources: readonly {
    readonly apiVersion: string;
    readonly kind: string;
    readonly name: string;
    readonly namespace: string;
    readonly uid?: string;
  }[];
  readonly properties: Readonly<Record<string, string>>;
  readonly timestamp: { readonly seconds: number; readonly nanos: number };
}

export interface PolicyReportObject {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: 'PolicyReport' | 'ClusterPolicyReport';
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels: Record<string, string> };
  readonly summary: Summary;
  readonly results: readonly ReportResultEntry[];
}

const emptySummary = (): Summary => ({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0 });
const MESSAGE_MAX = 1024;

function resultOf(row: AuditRow, at: number): ReportResultEntry {
  const t = row.target;
  const properties: Record<string, string> = {
    container: t.container,
    image: t.image,
    decision: row.decision,
  };
  if (row.digest !== undefined) properties.digest = row.digest;
  if (row.code !== undefined) properties.code = row.code;
  if (t.ownedBy !== undefined) properties.ownedBy = t.ownedBy;
  const message = row.reason.length > MESSAGE_MAX ? `${row.reason.slice(0, MESSAGE_MAX - 1)}…` : row.reason;
  return {
    source: 'portcullis',
    policy: row.policy ?? NO_POLICY,
    ...(row.rule === undefined ? {} : { rule: row.rule }),
    result: row.result,
    message,
    scored: true,
    resources: [
      {
        apiVersion: t.workload.apiVersion,
        kind: t.workload.kind,
        name: t.workload.name,
        namespace: t.namespace,
        ...(t.workload.uid === undefined ? {} : { uid: t.workload.uid }),
      },
    ],
    properties,
    timestamp: { seconds: Math.floor(at / 1000), nanos: 0 },
  };
}

/**
 * The reports for the rows of one audit at time `at` (epoch ms). `namespaces` lists every
 * namespace audited, so one that has nothing running gets an empty report (and a stale one
 * is replaced).
 */
export function buildReports(
  rows: readonly AuditRow[],
  at: number,
  namespaces: Iterable<string> = [],
): { namespaced: PolicyReportObject[]; cluster: PolicyReportObject } {
  const byNamespace = new Map<string, AuditRow[]>();
  for (const ns of namespaces) byNamespace.set(ns, []);
  for (const row of rows) {
    const list = byNamespace.get(row.target.namespace);
    if (list === undefined) byNamespace.set(row.target.namespace, [row]);
    else list.push(row);
  }
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY };
  const total = emptySummary();
  const namespaced: PolicyReportObject[] = [];
  for (const [namespace, list] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const summary = emptySummary();
    for (const row of list) {
      summary[row.result]++;
      total[row.result]++;
    }
    namespaced.push({
      apiVersion: REPORT_API_VERSION,
      kind: 'PolicyReport',
      metadata: { name: REPORT_NAME, namespace, labels: { ...labels } },
      summary,
      results: list.slice(0, MAX_RESULTS_PER_REPORT).map((row) => resultOf(row, at)),
    });
  }
  return {
    namespaced,
    cluster: {
      apiVersion: REPORT_API_VERSION,
      kind: 'ClusterPolicyReport',
      metadata: { name: REPORT_NAME, labels: { ...labels } },
      summary: total,
      results: [],
    },
  };
}
