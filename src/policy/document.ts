import { PortcullisError } from '../errors/index.js';
import { parseStrictJson, type JsonValue } from '../util/index.js';
import { invalidPolicy } from './invalid.js';
import type {
  BlobTrustPolicyDocument,
  BlobTrustPolicyStatementDocument,
  SignatureVerificationDocument,
  TrustPolicyDocument,
  TrustPolicyStatementDocument,
} from './types.js';

export const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';

// notation-go decodes the document with encoding/json into typed structs: unknown members are
// ignored, absent or null members take their zero value ("" / nil), and a member of the wrong
// JSON type fails the whole decode ("malformed trust policy"). We follow that, except that we
// also reject duplicate member names and names that differ only in case (Go would match them
// case-insensitively and let the last win), both of which only ever reject more.

type Json = JsonValue;

// A policy is a few kilobytes; the cap only stops a runaway file from being parsed.
const MAX_POLICY_BYTES = 1024 * 1024;
const MAX_POLICY_DEPTH = 16;

function malformed(detail: string, cause?: unknown): never {
  throw invalidPolicy(
    `malformed trust policy. To create a trust policy, see: ${TRUST_POLICY_LINK} (${detail})`,
    undefined,
    cause,
  );
}

/** Strict JSON: duplicate member names, which JSON.parse would silently resolve, are malformed. */
function decode(text: string): Json {
  try {
    return parseStrictJson(text, {
      maxBytes: MAX_POLICY_BYTES,
      maxDepth: MAX_POLICY_DEPTH,
      code: 'ERR_POLICY_INVALID',
      what: 'trust policy',
    });
  } catch (error) {
    if (error instanceof PortcullisError && error.code === 'ERR_POLICY_INVALID') malformed(error.message, error);
    throw error;
  }
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Members of an object, or none for null (Go: a null struct stays zero). */
function members(value: Json | undefined, where: string): { [key: string]: Json } {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) malformed(`${where} must be an object`);
  return value;
}

function member(object: { [key: string]: Json }, key: string): Json | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function str(value: Json | undefined, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') malformed(`${where} must be a string`);
  return value;
}

function strings(value: Json | undefined, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) malformed(`${where} must be an array of strings`);
  return value.map((item, i) => str(item, `${where}[${i}]`));
}

function signatureVerification(value: Json | undefined, where: string): SignatureVerificationDocument {
  const object = members(value, where);
  const overrideValue = member(object, 'override');
  let override: Record<string, string> | undefined;
  if (overrideValue !== undefined && overrideValue !== null) {
    if (!isObject(overrideValue)) malformed(`${where}.override must be an object`);
    // A Map-free plain record with own properties only; keys are validated later.
    override = Object.fromEntries(Object.entries(overrideValue).map(([k, v]) => [k, str(v, `${where}.override.${k}`)]));
  }
  const verifyTimestamp = member(object, 'verifyTimestamp');
  return {
    level: str(member(object, 'level'), `${where}.level`),
    ...(override === undefined ? {} : { override }),
    ...(verifyTimestamp === undefined ? {} : { verifyTimestamp: str(verifyTimestamp, `${where}.verifyTimestamp`) }),
  };
}

interface CommonStatement {
  readonly name: string;
  readonly signatureVerification: SignatureVerificationDocument;
  readonly trustStores?: readonly string[];
  readonly trustedIdentities?: readonly string[];
}

function commonStatement(object: { [key: string]: Json }, where: string): CommonStatement {
  const trustStores = strings(member(object, 'trustStores'), `${where}.trustStores`);
  const trustedIdentities = strings(member(object, 'trustedIdentities'), `${where}.trustedIdentities`);
  return {
    name: str(member(object, 'name'), `${where}.name`),
    signatureVerification: signatureVerification(
      member(object, 'signatureVerification'),
      `${where}.signatureVerification`,
    ),
    ...(trustStores === undefined ? {} : { trustStores }),
    ...(trustedIdentities === undefined ? {} : { trustedIdentities }),
  };
}

function statements<T>(
  root: { [key: string]: Json },
  read: (object: { [key: string]: Json }, where: string) => T,
): T[] {
  const list = member(root, 'trustPolicies');
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) malformed('trustPolicies must be an array');
  return list.map((item, i) => read(members(item, `trustPolicies[${i}]`), `trustPolicies[${i}]`));
}

/**
 * Decodes trustpolicy.oci.json / trustpolicy.json text into its document shape (no rule
 * checks: see validateTrustPolicy). Throws ERR_POLICY_INVALID `malformed trust policy. …`.
 */
export function parseTrustPolicyJson(text: string): TrustPolicyDocument {
  const root = members(decode(text), 'the trust policy document');
  return {
    version: str(member(root, 'version'), 'version'),
    trustPolicies: statements(root, (object, where): TrustPolicyStatementDocument => ({
      ...commonStatement(object, where),
      registryScopes: strings(member(object, 'registryScopes'), `${where}.registryScopes`) ?? [],
    })),
  };
}

/** Decodes trustpolicy.blob.json text into its document shape. */
export function parseBlobTrustPolicyJson(text: string): BlobTrustPolicyDocument {
  const root = members(decode(text), 'the trust policy document');
  return {
    version: str(member(root, 'version'), 'version'),
    trustPolicies: statements(root, (object, where): BlobTrustPolicyStatementDocument => {
      const global = member(object, 'globalPolicy');
      if (global !== undefined && global !== null && typeof global !== 'boolean')
        malformed(`${where}.globalPolicy must be a boolean`);
      return { ...commonStatement(object, where), ...(global === true ? { globalPolicy: true } : {}) };
    }),
  };
}
