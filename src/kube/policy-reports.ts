import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { PortcullisError } from '../errors/index.js';
import { describeApiError, httpStatusOf, makeClients } from './client.js';

/**
 * Writes wg-policy reports (wgpolicyk8s.io/v1alpha2 PolicyReport, ClusterPolicyReport) — the
 * objects are built elsewhere (src/audit); this only puts them in the cluster: created, or
 * replaced whole. A report Portcullis wrote before for a namespace no longer audited (found by
 * the managed-by label the objects carry) is emptied rather than deleted: the server needs no
 * delete permission, and the namespace's deletion removes it.
 */
export interface ReportObject {
  readonly apiVersion: string;
  readonly kind: 'PolicyReport' | 'ClusterPolicyReport';
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels: Record<string, string> };
}

const AT = { group: 'wgpolicyk8s.io', version: 'v1alpha2' };
const PLURAL = { PolicyReport: 'policyreports', ClusterPolicyReport: 'clusterpolicyreports' } as const;

export const MISSING_CRDS =
  'the wgpolicyk8s.io/v1alpha2 PolicyReport CRDs are not installed (kubectl get crd policyreports.wgpolicyk8s.io): ' +
  'kubectl apply -k deploy/policyreport-crds (the Helm chart installs them unless policyReports.installCRDs=false), ' +
  'or set audit.intervalSeconds: 0 to turn the background audit off';

export interface ReportWriteResult {
  readonly written: number;
  /** Reports of namespaces no longer audited, emptied. */
  readonly emptied: number;
}

export class PolicyReportWriter {
  readonly #custom: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.#custom = makeClients(kubeConfig).custom;
  }

  /**
   * Writes every report; empties the PolicyReports with `selector` (the managed-by label) of
   * other namespaces. Throws ERR_KUBE_API for the first write that fails (the next audit retries).
   */
  async writeAll(reports: readonly ReportObject[], selector: string): Promise<ReportWriteResult> {
    let written = 0;
    for (const report of reports) {
      await this.#put(report);
      written++;
    }
    const keep = new Set(
      reports.filter((r) => r.kind === 'PolicyReport').map((r) => `${r.metadata.namespace}/${r.metadata.name}`),
    );
    let emptied = 0;
    const listed = (await this.#call('listing PolicyReports', () =>
      this.#custom.listCustomObjectForAllNamespaces({ ...AT, plural: PLURAL.PolicyReport, labelSelector: selector }),
    )) as {
      items?: {
        metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
        results?: unknown[];
      }[];
    };
    for (const item of listed.items ?? []) {
      const { name, namespace, labels } = item.metadata ?? {};
      if (name === undefined || namespace === undefined || keep.has(`${namespace}/${name}`)) continue;
      if ((item.results ?? []).length === 0) continue; // emptied before
      await this.#put({
        apiVersion: `${AT.group}/${AT.version}`,
        kind: 'PolicyReport',
        metadata: { name, namespace, labels: labels ?? {} },
        summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
        results: [],
      } as ReportObject);
      emptied++;
    }
    return { written, emptied };
  }

  async #put(report: ReportObject): Promise<void> {
    const plural = PLURAL[report.kind];
    const { name, namespace } = report.metadata;
    const where = `${report.kind} ${namespace === undefined ? '' : `${namespace}/`}${name}`;
    await this.#call(`writing ${where}`, async () => {
      const existing = await this.#get(plural, name, namespace);
      if (existing === undefined) {
        if (namespace === undefined) await this.#custom.createClusterCustomObject({ ...AT, plural, body: report });
        else await this.#custom.createNamespacedCustomObject({ ...AT, plural, namespace, body: report });
        return;
      }
      const body = { ...report, metadata: { ...report.metadata, resourceVersion: existing } };
      if (namespace === undefined) await this.#custom.replaceClusterCustomObject({ ...AT, plural, name, body });
      else await this.#custom.replaceNamespacedCustomObject({ ...AT, plural, namespace, name, body });
    });
  }

  /** The resourceVersion of the existing report, or undefined. */
  async #get(plural: string, name: string, namespace: string | undefined): Promise<string | undefined> {
    try {
      const found = (
        namespace === undefined
          ? await this.#custom.getClusterCustomObject({ ...AT, plural, name })
          : await this.#custom.getNamespacedCustomObject({ ...AT, plural, namespace, name })
      ) as { metadata?: { resourceVersion?: string } };
      return found.metadata?.resourceVersion ?? '';
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof PortcullisError) throw error;
      // A 404 on a create or list means the kind is not served: the CRDs are missing (plain
      // manifests leave them out), and the admin needs the command, not the status code.
      const hint = httpStatusOf(error) === 404 ? ` — ${MISSING_CRDS}` : '';
      throw new PortcullisError('ERR_KUBE_API', `${what}: ${describeApiError(error)}${hint}`, { cause: error });
    }
  }
}
