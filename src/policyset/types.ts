import type { TrustPolicy } from '../policy/index.js';
import type { Certificate, TrustStoreType } from '../x509/index.js';
import type { StatementOptions } from './statement-options.js';

/**
 * The custom resources of group portcullis.dev/v1alpha1 as Portcullis reads them, and the
 * immutable snapshot built from them. The snapshot is what the webhook decides from; it is
 * replaced as a whole (one reference assignment) when any resource changes.
 *
 * The snapshot does not know where the resources came from (a directory of manifests, or the
 * Kubernetes API): `buildSnapshot` in build.ts takes plain objects, so every source builds the
 * same snapshot from the same resources. docs/policies.md is the user-facing reference.
 */

export type EnforcementAction = 'deny' | 'warn' | 'dryrun';
export type PolicyKind = 'TrustPolicy' | 'ClusterTrustPolicy';
export type StoreKind = 'TrustStore' | 'ClusterTrustStore';
export type { TrustStoreType };

/**
 * Identifies a resource in messages: `TrustPolicy team-a/prod` or `ClusterTrustPolicy baseline`
 * (see `formatResourceId`). `File` names a manifest file of a directory source that could not be
 * read or parsed (name = the path relative to the directory); `Unknown` is an object whose kind
 * is unknown or missing.
 */
export interface ResourceId {
  readonly kind: PolicyKind | StoreKind | 'Secret' | 'ConfigMap' | 'Namespace' | 'File' | 'Unknown';
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

/**
 * A trust-store lookup that resolves `type:name` for one policy document. A TrustPolicy sees the
 * TrustStore of that name and type in its own namespace, else the ClusterTrustStore of that name
 * and type; a ClusterTrustPolicy sees ClusterTrustStores only (so a namespace owner can never
 * swap the certificates of the cluster baseline). Only the stores the document references are
 * resolvable: every one of them resolved and was valid, or the document would be invalid.
 */
export interface ResolvedTrustStores {
  get(type: TrustStoreType, name: string): readonly Certificate[] | undefined;
  /** The resource a store reference resolved to, for messages (`ClusterTrustStore e2e`). */
  source(type: TrustStoreType, name: string): ResourceId | undefined;
}

/** One valid TrustPolicy or ClusterTrustPolicy, ready to evaluate. */
export interface PolicyDocument {
  readonly id: ResourceId & { readonly kind: PolicyKind };
  /**
   * metadata.generation when set (the Kubernetes API sets it), else a number derived from a
   * hash of the resource's content (directory mode), for status and cache keys.
   */
  readonly generation: number;
  readonly enforcementAction: EnforcementAction;
  /** The Notary trust policy document, validated. */
  readonly policy: TrustPolicy;
  readonly trustStores: ResolvedTrustStores;
  /** ClusterTrustPolicy only; absent means every namespace. */
  readonly namespaceSelector?: LabelSelector;
  /** Portcullis' requirements per statement (`spec.statementOptions`); absent = the defaults for every statement. */
  readonly statementOptions?: StatementOptions;
}

/**
 * The namespaces an invalid policy would have covered. The executor treats each of them as
 * covered by a policy that rejects every image (see PolicySnapshot.invalidFor).
 * - `namespace`: an invalid TrustPolicy (its own namespace), or an invalid Namespace object.
 * - `selector`: an invalid ClusterTrustPolicy whose namespaceSelector itself is valid.
 * - `all`: an invalid ClusterTrustPolicy without a usable selector, or a manifest file that
 *   could not be read or parsed (it may have held any policy).
 */
export type BlockScope =
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'selector'; readonly selector: LabelSelector }
  | { readonly kind: 'all' };

/** A resource that did not take effect, and why. */
export interface InvalidResource {
  readonly id: ResourceId;
  /** One line, naming the field, store, reference or statement at fault. Never secret content. */
  readonly reason: string;
  /** A stable code of docs/errors.md (ERR_RESOURCE_INVALID, ERR_POLICY_INVALID, ERR_TRUSTSTORE_*). */
  readonly code: string;
  /** Where the resource came from when the source knows (`team-a/policy.yaml`). */
  readonly source?: string;
  /**
   * Set when the resource is (or may be) a policy: the namespaces it blocks. Absent for stores,
   * Secrets and ConfigMaps — they block only through the policies that reference them, which
   * are then invalid themselves.
   */
  readonly blocks?: BlockScope;
  /**
   * What to do in the blocked namespaces: the enforcementAction written in the invalid policy
   * when it could be read (a broken policy in `warn` or `dryrun` mode only warns / records), else
   * `deny`. Set whenever `blocks` is.
   */
  readonly enforcementAction?: EnforcementAction;
  /** The resource was valid before: its last valid version stays in force (the change is not applied). */
  readonly keptPrevious?: boolean;
}

/**
 * An immutable, self-contained view of every policy resource at one moment.
 *
 * Invalid policies and namespaces (the design): an invalid TrustPolicy or ClusterTrustPolicy
 * never takes effect and is never dropped silently either. It is listed in `invalid` with a
 * `blocks` scope, and `invalidFor(namespace)` returns it for every namespace it would have
 * covered. The executor must treat each entry as a document that rejects every image with the
 * entry's reason (under the entry's enforcementAction), in addition to evaluating the valid
 * documents of `documentsFor`. So a namespace whose only TrustPolicy is broken is denied with
 * the reason, not left unenforced, and a broken cluster baseline denies in the namespaces its
 * selector covers (all of them when the selector is unknown).
 */
export interface PolicySnapshot {
  /** Increases with every new snapshot; part of verdict cache keys. */
  readonly revision: number;
  /** Every valid policy document: ClusterTrustPolicies by name, then TrustPolicies by namespace and name. */
  readonly documents: readonly PolicyDocument[];
  /** Every resource (or file) that did not take effect, in a stable order. */
  readonly invalid: readonly InvalidResource[];
  /**
   * Namespace labels known to the source (for ClusterTrustPolicy namespaceSelector). Each
   * includes `kubernetes.io/metadata.name`, as the API server sets it on every namespace.
   */
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /**
   * The valid documents that apply to a namespace: the ClusterTrustPolicies whose selector
   * matches its labels (an unknown namespace has only the `kubernetes.io/metadata.name` label),
   * then its TrustPolicies. Empty = no valid policy; check `invalidFor` before concluding that
   * the namespace is unenforced.
   */
  documentsFor(namespace: string): readonly PolicyDocument[];
  /** The invalid policies (entries of `invalid` with `blocks`) that cover a namespace. */
  invalidFor(namespace: string): readonly InvalidResource[];
  /**
   * The keys of a Secret or ConfigMap the source holds (in Kubernetes, only those carrying the
   * trust-material label), still encoded — for material other than trust stores (revocation
   * material named in the webhook's configuration). Absent in snapshots made without it.
   */
  dataOf?(kind: 'Secret' | 'ConfigMap', namespace: string, name: string): DataLookup;
}

/** `TrustPolicy team-a/prod`, `ClusterTrustPolicy baseline`, `File policies/x.yaml`. */
export function formatResourceId(id: ResourceId): string {
  return id.namespace === undefined ? `${id.kind} ${id.name}` : `${id.kind} ${id.namespace}/${id.name}`;
}

/** What a snapshot knows of a Secret or ConfigMap: not seen, seen but unreadable (why), or its keys. */
export type DataLookup =
  | { readonly found: false }
  | { readonly found: true; readonly invalid: string }
  | {
      readonly found: true;
      readonly entries: ReadonlyMap<string, { readonly encoding: 'base64' | 'text'; readonly value: string }>;
    };
