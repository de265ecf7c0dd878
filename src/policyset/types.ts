import type { TrustPolicy } from '../policy/types.js';
import type { Certificate } from '../x509/certificate.js';

/**
 * The custom resources of group portcullis.dev/v1alpha1 as Portcullis reads them, and the
 * immutable snapshot built from them. The snapshot is what the webhook decides from; it is
 * replaced as a whole (one reference assignment) when any resource changes.
 */

export type EnforcementAction = 'deny' | 'warn' | 'dryrun';
export type PolicyKind = 'TrustPolicy' | 'ClusterTrustPolicy';
export type StoreKind = 'TrustStore' | 'ClusterTrustStore';

/** Identifies a resource in messages: `TrustPolicy team-a/prod` or `ClusterTrustPolicy baseline`. */
export interface ResourceId {
  readonly kind: PolicyKind | StoreKind | 'Secret' | 'ConfigMap' | 'Namespace';
  readonly namespace?: string;
  readonly name: string;
}

/** A label selector (the subset of metav1.LabelSelector Portcullis supports). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

/** A trust-store lookup that resolves `type:name` for one policy document (namespaced store first, then cluster store). */
export interface ResolvedTrustStores {
  get(type: 'ca' | 'signingAuthority' | 'tsa', name: string): readonly Certificate[] | undefined;
}

/** One valid TrustPolicy or ClusterTrustPolicy, ready to evaluate. */
export interface PolicyDocument {
  readonly id: ResourceId & { readonly kind: PolicyKind };
  /** metadata.generation (or a content hash in directory mode), for status and cache keys. */
  readonly generation: number;
  readonly enforcementAction: EnforcementAction;
  /** The Notary trust policy document, validated. */
  readonly policy: TrustPolicy;
  readonly trustStores: ResolvedTrustStores;
  /** ClusterTrustPolicy only; absent means every namespace. */
  readonly namespaceSelector?: LabelSelector;
}

/** A resource that did not take effect, and why. */
export interface InvalidResource {
  readonly id: ResourceId;
  readonly reason: string;
  readonly code: string;
}

export interface PolicySnapshot {
  /** Increases with every new snapshot; part of verdict cache keys. */
  readonly revision: number;
  readonly documents: readonly PolicyDocument[];
  readonly invalid: readonly InvalidResource[];
  /** Namespace labels known to the source (for ClusterTrustPolicy namespaceSelector). */
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** The documents that apply to a namespace: its TrustPolicies and the ClusterTrustPolicies that select it. */
  documentsFor(namespace: string): readonly PolicyDocument[];
}
