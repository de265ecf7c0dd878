import { PortcullisError } from '../errors/index.js';
import type { PolicySnapshot } from '../policyset/index.js';
import { MATERIAL_LIMITS, RevocationMaterial, type MaterialItem } from '../revocation/index.js';
import { decodeBase64 } from '../util/index.js';

/**
 * Revocation material the webhook reads from Secrets and ConfigMaps (`verification.
 * revocationMaterialRefs`): keys `*.crl` (DER or PEM, any number of CRLs) and `*.ocsp` (a DER
 * OCSP response). The objects come from the policy source, so they are re-read when they change
 * (a new snapshot), and in Kubernetes only those carrying the trust-material label are seen.
 * Only the operator names them (the webhook's configuration): a namespace owner cannot slip in an
 * older, still-valid CRL that predates a revocation.
 */

export interface ObjectRef {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly namespace: string;
  readonly name: string;
}

/** `ConfigMap/<namespace>/<name>` or `Secret/<namespace>/<name>` (the configuration checked the shape). */
export function parseObjectRef(text: string): ObjectRef {
  const [kind, namespace, name] = text.split('/');
  if ((kind !== 'Secret' && kind !== 'ConfigMap') || namespace === undefined || name === undefined) {
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `${text} is not ConfigMap/<namespace>/<name> or Secret/<namespace>/<name>`,
    );
  }
  return { kind, namespace, name };
}

/** The material of the referenced objects in a snapshot; what is missing or unreadable is in `problems`. */
export function materialFromSnapshot(snapshot: PolicySnapshot, refs: readonly ObjectRef[]): RevocationMaterial {
  const crls: MaterialItem[] = [];
  const ocspResponses: MaterialItem[] = [];
  const problems: string[] = [];
  for (const ref of refs) {
    const what = `${ref.kind} ${ref.namespace}/${ref.name}`;
    const lookup = snapshot.dataOf?.(ref.kind, ref.namespace, ref.name) ?? { found: false as const };
    if (!lookup.found) {
      problems.push(`${what}: not found (in Kubernetes it must carry the trust-material label)`);
      continue;
    }
    if ('invalid' in lookup) {
      problems.push(`${what}: ${lookup.invalid}`);
      continue;
    }
    for (const [key, entry] of lookup.entries) {
      const origin = `${what} key ${key}`;
      const kind = key.endsWith('.crl') ? 'crl' : key.endsWith('.ocsp') ? 'ocsp' : undefined;
      if (kind === undefined) {
        problems.push(`${origin}: neither *.crl nor *.ocsp, ignored`);
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = entry.encoding === 'text' ? new TextEncoder().encode(entry.value) : decodeBase64(entry.value, key);
      } catch {
        problems.push(`${origin}: the value is not valid base64`);
        continue;
      }
      const max = kind === 'crl' ? MATERIAL_LIMITS.crlMaxBytes : MATERIAL_LIMITS.ocspMaxBytes;
      if (bytes.length > max) {
        problems.push(`${origin}: larger than ${max} bytes`);
        continue;
      }
      (kind === 'crl' ? crls : ocspResponses).push({ origin, bytes });
    }
  }
  return new RevocationMaterial({ crls, ocspResponses, problems });
}

/**
 * The webhook's supplied material: a directory's (re-read every minute) and the referenced
 * objects' (re-read with each snapshot), one RevocationMaterial the checker consults before any fetch.
 */
export class WebhookRevocationMaterial {
  readonly #refs: readonly ObjectRef[];
  readonly #directory: { current(): RevocationMaterial } | undefined;
  readonly #onLoad: (material: RevocationMaterial) => void;
  #fromObjects: RevocationMaterial = RevocationMaterial.EMPTY;
  #union: { readonly parts: readonly RevocationMaterial[]; readonly material: RevocationMaterial } | undefined;

  constructor(options: {
    readonly refs: readonly string[];
    readonly directory?: { current(): RevocationMaterial };
    /** Called with the objects' material each time a snapshot changes it (for the log). */
    readonly onLoad?: (material: RevocationMaterial) => void;
  }) {
    this.#refs = options.refs.map(parseObjectRef);
    this.#directory = options.directory;
    this.#onLoad = options.onLoad ?? (() => undefined);
  }

  /** Whether there is anything to consult (a directory or a reference). */
  get configured(): boolean {
    return this.#directory !== undefined || this.#refs.length > 0;
  }

  /** Reads the referenced objects of a new snapshot. */
  update(snapshot: PolicySnapshot): void {
    if (this.#refs.length === 0) return;
    this.#fromObjects = materialFromSnapshot(snapshot, this.#refs);
    this.#onLoad(this.#fromObjects);
  }

  current(): RevocationMaterial {
    const parts = [this.#directory?.current() ?? RevocationMaterial.EMPTY, this.#fromObjects];
    const last = this.#union;
    if (last !== undefined && last.parts.every((p, i) => p === parts[i])) return last.material;
    const material = RevocationMaterial.union(parts);
    this.#union = { parts, material };
    return material;
  }
}
