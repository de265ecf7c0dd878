import { expect } from 'vitest';
import type { KubectlOptions, KubectlResult } from './cluster.js';

/** What runs kubectl against a cluster (KubeCluster, NodeCluster). */
export interface KubectlTarget {
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
}

/**
 * kubectl for a test's cluster, read when called (the cluster starts in beforeAll): `kubectl`
 * never throws, its exit code is the caller's to check; `apply` applies YAML from stdin and
 * expects it to succeed.
 */
export function kubectlFor(cluster: () => KubectlTarget): {
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  apply(yaml: string): Promise<void>;
} {
  const kubectl = (args: string[], input?: string) =>
    cluster().kubectl(args, { allowFail: true, ...(input === undefined ? {} : { input }) });
  return {
    kubectl,
    apply: async (yaml: string): Promise<void> => {
      const r = await kubectl(['apply', '-f', '-'], yaml);
      expect(r.code, r.stderr).toBe(0);
    },
  };
}
