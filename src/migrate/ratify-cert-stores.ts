import type { TrustStoreType } from '../policyset/index.js';
import { isObject, obj, strings, type Notes } from './notes.js';

/** Ratify's trust store type names (any case) and the Notary ones they are. */
export const STORE_TYPES: Readonly<Record<string, TrustStoreType>> = {
  ca: 'ca',
  signingauthority: 'signingAuthority',
  tsa: 'tsa',
};

export interface CertStore {
  readonly type: TrustStoreType;
  readonly name: string;
  readonly references: readonly string[];
}

/** verificationCertStores: `{type: {store: [refs]}}`, or the older untyped `{store: [refs]}` (type ca). */
export function readCertStores(value: unknown, subject: string, notes: Notes): CertStore[] {
  const stores: CertStore[] = [];
  for (const [key, entry] of Object.entries(obj(value))) {
    if (Array.isArray(entry)) {
      stores.push({ type: 'ca', name: key, references: strings(entry) });
      continue;
    }
    const type = STORE_TYPES[key.toLowerCase()];
    if (type === undefined || !isObject(entry)) {
      notes.warn(subject, `verificationCertStores.${key}: not a trust store type (ca, signingAuthority, tsa): ignored`);
      continue;
    }
    for (const [name, references] of Object.entries(entry))
      stores.push({ type, name, references: strings(references) });
  }
  return stores;
}
