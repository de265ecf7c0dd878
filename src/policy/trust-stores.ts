import { goQuote } from './go-format.js';
import { isTrustStoreType } from '../x509/index.js';
import type { TrustStoreRef } from './types.js';

export type TrustStoresResult =
  { readonly ok: true; readonly stores: readonly TrustStoreRef[] } | { readonly ok: false; readonly message: string };

// notation-go file.IsValidFileName: the named store is a directory name.
const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

/**
 * Parses `trustStores` entries `<type>:<name>` (spec "Trust Policy Properties"; notation-go
 * validateTrustStore). Type ∈ {ca, signingAuthority, tsa}; name [a-zA-Z0-9_.-]+, and — stricter
 * than notation — not `.` or `..`, which would name the type directory or its parent. Repeated
 * entries are kept once (notation accepts and merges them).
 */
export function parseTrustStores(statement: string, values: readonly string[]): TrustStoresResult {
  const stores: TrustStoreRef[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    const colon = value.indexOf(':');
    if (colon < 0) {
      return {
        ok: false,
        message: `trust policy statement ${goQuote(statement)} has malformed trust store value ${goQuote(value)}. The required format is <TrustStoreType>:<TrustStoreName>`,
      };
    }
    const type = value.slice(0, colon);
    const name = value.slice(colon + 1);
    if (!isTrustStoreType(type)) {
      return {
        ok: false,
        message: `trust policy statement ${goQuote(statement)} uses an unsupported trust store type ${goQuote(type)} in trust store value ${goQuote(value)}`,
      };
    }
    if (!STORE_NAME.test(name) || name === '.' || name === '..') {
      return {
        ok: false,
        message: `trust policy statement ${goQuote(statement)} uses an unsupported trust store name ${goQuote(name)} in trust store value ${goQuote(value)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format`,
      };
    }
    if (seen.has(value)) continue;
    seen.add(value);
    stores.push(Object.freeze({ type, name }));
  }
  return { ok: true, stores };
}
