import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import type { KubectlOptions, KubectlResult } from './cluster.js';

/** What runs kubectl against a cluster (KubeCluster, NodeCluster). */
export interface KubectlTarget {
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
}

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * kubectl for a test's cluster, read when called (the cluster starts in beforeAll): `kubectl`
 * never throws, its exit code is the caller's to check; `apply` applies YAML from stdin and
 * expects it to succeed; `installCrds` applies the project's kustomizations (deploy/crds,
 * deploy/policyreport-crds) and waits until every CRD is established.
 */
export function kubectlFor(cluster: () => KubectlTarget): {
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  apply(yaml: string): Promise<void>;
  installCrds(kustomizations: readonly string[]): Promise<void>;
} {
  const kubectl = (args: string[], input?: string) =>
    cluster().kubectl(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
  return {
    kubectl,
    apply: async (yaml: string): Promise<void> => {
      const r = await kubectl(['apply', '-f', '-'], yaml);
      expect(r.code, r.stderr).toBe(0);
    },
    installCrds: async (kustomizations: readonly string[]): Promise<void> => {
      for (const k of kustomizations) {
        const r = await kubectl(['apply', '-k', join(ROOT, k)]);
        expect(r.code, r.stderr).toBe(0);
      }
      await kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=30s']);
    },
  };
}
