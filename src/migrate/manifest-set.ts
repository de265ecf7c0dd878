import type { TrustStoreType } from '../policyset/index.js';
import type { TrustAnchor } from './certificates.js';
import { policyManifest, storeManifest, type PolicyManifestInput } from './manifests.js';
import { NameRegistry } from './names.js';
import type { Manifest } from './types.js';

/**
 * The manifests an importer writes, with object names unique per kind and namespace (two
 * Ratify verifiers may both call a store `certs`), and identical stores written once.
 */
export class ManifestSet {
  readonly manifests: Manifest[] = [];
  readonly #names = new NameRegistry();
  readonly #stores = new Map<string, string>();

  /** Adds a store; returns the name it got (reused when the same certificates were already written under that wish). */
  addStore(input: {
    readonly wanted: string;
    readonly namespace?: string;
    readonly type: TrustStoreType;
    readonly anchors: readonly TrustAnchor[];
    readonly importedFrom: string;
  }): string {
    const kind = input.namespace === undefined ? 'ClusterTrustStore' : 'TrustStore';
    const fingerprint = input.anchors.map((a) => a.sha256).join(',');
    const key = `${kind}\u0000${input.namespace ?? ''}\u0000${input.type}\u0000${input.wanted}\u0000${fingerprint}`;
    const existing = this.#stores.get(key);
    if (existing !== undefined) return existing;
    const name = this.#names.claim(`${kind}\u0000${input.namespace ?? ''}`, input.wanted);
    this.#stores.set(key, name);
    this.manifests.push(
      storeManifest({
        name,
        ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
        type: input.type,
        anchors: input.anchors,
        importedFrom: input.importedFrom,
      }),
    );
    return name;
  }

  /** Adds a policy under a unique name (the wish, or the wish with -2, -3…); returns the name. */
  addPolicy(input: Omit<PolicyManifestInput, 'name'> & { readonly wanted: string }): string {
    const kind = input.namespace === undefined ? 'ClusterTrustPolicy' : 'TrustPolicy';
    const name = this.#names.claim(`${kind}\u0000${input.namespace ?? ''}`, input.wanted);
    this.manifests.push(
      policyManifest({
        name,
        ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
        enforcementAction: input.enforcementAction,
        statements: input.statements,
        ...(input.namespaceSelector === undefined ? {} : { namespaceSelector: input.namespaceSelector }),
        importedFrom: input.importedFrom,
      }),
    );
    return name;
  }
}
