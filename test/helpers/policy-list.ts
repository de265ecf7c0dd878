import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const API_VERSION = 'portcullis.dev/v1alpha1';

/** A ClusterTrustStore of type `ca` holding `certificates` (PEM). */
export const clusterTrustStore = (name: string, certificates: string) => ({
  apiVersion: API_VERSION,
  kind: 'ClusterTrustStore',
  metadata: { name },
  spec: { type: 'ca', certificates },
});

/** A ClusterTrustPolicy named `name` with `spec` (version, trustPolicies, namespaceSelector...). */
export const clusterTrustPolicy = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: API_VERSION,
  kind: 'ClusterTrustPolicy',
  metadata: { name },
  spec,
});

/**
 * Writes `items` as one Kubernetes List into `<dir>/<file>` (the directory `portcullis serve
 * --policies` reads), creating `dir`; returns `dir`.
 */
export function writePolicyList(dir: string, items: readonly unknown[], file = 'policy.json'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return dir;
}
