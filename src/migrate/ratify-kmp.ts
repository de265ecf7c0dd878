import { describe, obj, str, type Notes, type Obj } from './notes.js';

/**
 * Ratify v1's certificate sources (config.ratify.deislabs.io): KeyManagementProvider (cluster),
 * NamespacedKeyManagementProvider, and the deprecated CertificateStore. Only inline certificates
 * can be carried over: the importer cannot reach Azure Key Vault or files in Ratify's pod.
 */

export interface KmpEntry {
  /** `KeyManagementProvider name (file#n)`, for notes. */
  readonly subject: string;
  /** The PEM text, when the provider holds inline certificates. */
  readonly pem?: string;
  /** Why it cannot be carried over, when it cannot. */
  readonly problem?: string;
}

export class KmpIndex {
  readonly #cluster = new Map<string, KmpEntry>();
  readonly #legacy = new Map<string, KmpEntry>();
  readonly #namespaced = new Map<string, KmpEntry>();

  /** Records a KMP or CertificateStore; returns false when `object` is neither. */
  add(object: Obj, origin: string, notes: Notes): boolean {
    const kind = str(object['kind']);
    const metadata = obj(object['metadata']);
    const name = str(metadata['name']);
    if (kind !== 'KeyManagementProvider' && kind !== 'NamespacedKeyManagementProvider' && kind !== 'CertificateStore')
      return false;
    const subject = describe(object, origin);
    if (name === undefined) {
      notes.warn(subject, 'has no metadata.name: ignored');
      return true;
    }
    const entry = readEntry(kind, obj(object['spec']), subject);
    if (entry.problem !== undefined) notes.warn(subject, entry.problem);
    if (kind === 'NamespacedKeyManagementProvider') {
      const namespace = str(metadata['namespace']);
      if (namespace === undefined) {
        notes.warn(
          subject,
          'a NamespacedKeyManagementProvider without metadata.namespace cannot be referenced: ignored',
        );
        return true;
      }
      this.#namespaced.set(`${namespace}/${name}`, entry);
    } else if (kind === 'CertificateStore') this.#legacy.set(name, entry);
    else this.#cluster.set(name, entry);
    return true;
  }

  /**
   * A verificationCertStores reference: `namespace/name` is a NamespacedKeyManagementProvider,
   * a bare name a cluster KeyManagementProvider (Ratify prefers it to a CertificateStore of the
   * same name).
   */
  resolve(reference: string): KmpEntry | undefined {
    const slash = reference.indexOf('/');
    if (slash >= 0) return this.#namespaced.get(reference);
    return this.#cluster.get(reference) ?? this.#legacy.get(reference);
  }
}

function readEntry(kind: string, spec: Obj, subject: string): KmpEntry {
  const parameters = obj(spec['parameters']);
  const type = kind === 'CertificateStore' ? str(spec['provider']) : str(spec['type']);
  if (type !== 'inline') {
    return {
      subject,
      problem: `provider "${type ?? '(none)'}" fetches its certificates at run time, which the importer cannot do: put the certificates in a Secret labelled portcullis.dev/trust-material=true and list it in the store's certificateRefs (docs/policies.md)`,
    };
  }
  // CertificateStore inline carried certificates only; KMPs say which with contentType.
  const contentType = kind === 'CertificateStore' ? 'certificate' : str(parameters['contentType']);
  if (contentType !== 'certificate') {
    return {
      subject,
      problem: `contentType "${contentType ?? '(none)'}" is not carried over: Notary signatures are verified against certificates, not bare public keys`,
    };
  }
  const value = str(parameters['value']);
  if (value === undefined || value.trim() === '') return { subject, problem: 'parameters.value holds no certificate' };
  return { subject, pem: value };
}
