import type { ErrorCode } from '../errors/index.js';
import { sha256Hex } from '../util/index.js';
import type { EnforcementAction, PolicyKind, StoreKind } from './types.js';

/** The constants and small checks every resource reader uses (resources.ts, resource-readers.ts). */

export const GROUP = 'portcullis.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const POLICY_KINDS: readonly PolicyKind[] = ['TrustPolicy', 'ClusterTrustPolicy'];
export const STORE_KINDS: readonly StoreKind[] = ['TrustStore', 'ClusterTrustStore'];
export const ENFORCEMENT_ACTIONS: readonly EnforcementAction[] = ['deny', 'warn', 'dryrun'];
/** The label the API server puts on every namespace. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// RFC 1123 subdomain (object names) and label (namespace names), as the API server checks them.
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Canonical JSON (sorted keys): equal objects give equal strings. Throws on cycles. */
export function canonicalJson(value: unknown): string {
  const seen = new Set<unknown>();
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v) || isObject(v)) {
      if (seen.has(v)) throw new TypeError('the object contains a cycle (recursive YAML alias)');
      seen.add(v);
      const out = Array.isArray(v)
        ? v.map(walk)
        : Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, walk(v[k])]),
          );
      seen.delete(v);
      return out;
    }
    return v;
  };
  return JSON.stringify(walk(value)) ?? 'undefined';
}

export function fingerprintOf(value: unknown): string {
  try {
    return sha256Hex(new TextEncoder().encode(canonicalJson(value)));
  } catch {
    return 'unhashable';
  }
}

export class ResourceError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode = 'ERR_RESOURCE_INVALID',
  ) {
    super(message);
  }
}

export function fail(message: string, code?: ErrorCode): never {
  throw new ResourceError(message, code);
}

export function allowOnly(object: Obj, keys: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!keys.includes(key)) fail(`${where} has unknown field ${JSON.stringify(key)} (allowed: ${keys.join(', ')})`);
  }
}

export function optionalString(object: Obj, key: string, where: string): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(`${where}.${key} must be a string`);
  return value;
}

export function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(`${where} must be a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${where}.${k} must be a string (quote values such as "true" or 1)`);
    out[k] = v;
  }
  return out;
}

/** The parts of metadata Portcullis reads; name and namespace are checked by the caller. */
