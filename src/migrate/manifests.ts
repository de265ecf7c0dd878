import { API_VERSION, type EnforcementAction, type LabelSelector, type TrustStoreType } from '../policyset/index.js';
import type { TrustAnchor } from './certificates.js';
import type { Manifest } from './types.js';

/** Builders for the four portcullis.dev kinds as the importers write them (docs/policies.md). */

/** The annotation that says where a converted resource came from. */
export const IMPORTED_FROM = 'portcullis.dev/imported-from';

/** A Notary trust policy statement, as written into spec.trustPolicies (validated by the builder, not here). */
export type Statement = Readonly<Record<string, unknown>>;

export interface PolicyManifestInput {
  readonly name: string;
  /** Set: a TrustPolicy in this namespace. Absent: a ClusterTrustPolicy. */
  readonly namespace?: string;
  readonly enforcementAction: EnforcementAction;
  readonly statements: readonly Statement[];
  readonly namespaceSelector?: LabelSelector;
  readonly importedFrom: string;
}

export function policyManifest(input: PolicyManifestInput): Manifest {
  const metadata: Record<string, unknown> = { name: input.name };
  if (input.namespace !== undefined) metadata['namespace'] = input.namespace;
  metadata['annotations'] = { [IMPORTED_FROM]: input.importedFrom };
  const spec: Record<string, unknown> = {};
  if (input.namespace === undefined && input.namespaceSelector !== undefined) {
    spec['namespaceSelector'] = input.namespaceSelector;
  }
  spec['enforcementAction'] = input.enforcementAction;
  spec['version'] = '1.0';
  spec['trustPolicies'] = input.statements.map((s) => ({ ...s }));
  return {
    apiVersion: API_VERSION,
    kind: input.namespace === undefined ? 'ClusterTrustPolicy' : 'TrustPolicy',
    metadata,
    spec,
  };
}

export interface StoreManifestInput {
  readonly name: string;
  readonly namespace?: string;
  readonly type: TrustStoreType;
  readonly anchors: readonly TrustAnchor[];
  readonly importedFrom: string;
}

export function storeManifest(input: StoreManifestInput): Manifest {
  const metadata: Record<string, unknown> = { name: input.name };
  if (input.namespace !== undefined) metadata['namespace'] = input.namespace;
  metadata['annotations'] = { [IMPORTED_FROM]: input.importedFrom };
  return {
    apiVersion: API_VERSION,
    kind: input.namespace === undefined ? 'ClusterTrustStore' : 'TrustStore',
    metadata,
    spec: { type: input.type, certificates: input.anchors.map((a) => a.pem) },
  };
}
