import type { ErrorCode } from './codes.js';
import { OPERATIONS_GUIDANCE } from './troubleshooting-operations.js';
import { VERIFICATION_GUIDANCE } from './troubleshooting-verification.js';

/**
 * Hand-written guidance for docs/troubleshooting.md: for every code of codes.ts, where a user
 * meets it and what to check, in the order a person would check. The meaning and the remedy come
 * from codes.ts; troubleshooting-doc.ts puts the two together, and a test keeps the generated
 * file equal to it (`npm run docs:errors` writes both docs). The Record type makes a new code
 * without guidance a type error.
 */
export interface Guidance {
  /** Where the code shows up: the CLI, a webhook denial, a policy's status, the server log. */
  readonly where: string;
  /** What to look at, in order. */
  readonly check: readonly string[];
}

export interface Section {
  readonly title: string;
  readonly codes: readonly ErrorCode[];
}

export const SECTIONS: readonly Section[] = [
  {
    title: 'Input and configuration',
    codes: ['ERR_INPUT_INVALID', 'ERR_CONFIG_INVALID', 'ERR_SIZE_LIMIT', 'ERR_DIGEST_MISMATCH', 'ERR_DIGEST_INVALID'],
  },
  {
    title: 'Trust policies and trust stores',
    codes: [
      'ERR_POLICY_NOT_FOUND',
      'ERR_POLICY_INVALID',
      'ERR_POLICY_NO_MATCH',
      'ERR_TRUSTSTORE_NOT_FOUND',
      'ERR_TRUSTSTORE_INVALID',
      'ERR_TRUSTSTORE_REF_NOT_FOUND',
      'ERR_RESOURCE_INVALID',
      'ERR_IMPORT_NOTHING_TO_CONVERT',
    ],
  },
  {
    title: 'The signature itself',
    codes: [
      'ERR_NO_SIGNATURE',
      'ERR_SIGNATURE_LIMIT',
      'ERR_INDEX_INVALID',
      'ERR_PLATFORM_UNVERIFIED',
      'ERR_ATTESTATION_MISSING',
      'ERR_ATTESTATION_UNSIGNED',
      'ERR_ATTESTATION_REJECTED',
      'ERR_ATTESTATION_STALE',
      'ERR_SIGNATURE_MANIFEST_INVALID',
      'ERR_ENVELOPE_UNSUPPORTED',
      'ERR_ENVELOPE_MALFORMED',
      'ERR_ENVELOPE_HEADER_INVALID',
      'ERR_ENVELOPE_CRITICAL_UNKNOWN',
      'ERR_ENVELOPE_ALGORITHM',
      'ERR_SIGNATURE_INVALID',
      'ERR_PAYLOAD_INVALID',
      'ERR_PAYLOAD_MISMATCH',
      'ERR_METADATA_MISMATCH',
      'ERR_PLUGIN_REQUIRED',
      'ERR_PLUGIN_VERSION',
      'ERR_PLUGIN_REJECTED',
    ],
  },
  {
    title: 'Certificates, trust and identity',
    codes: [
      'ERR_CERT_MALFORMED',
      'ERR_CHAIN_INVALID',
      'ERR_CERT_REQUIREMENTS',
      'ERR_CHAIN_UNTRUSTED',
      'ERR_TRUSTSTORE_EMPTY_FOR_SCHEME',
      'ERR_IDENTITY_MISMATCH',
      'ERR_IDENTITY_NONE',
    ],
  },
  {
    title: 'Time: expiry and timestamps',
    codes: [
      'ERR_SIGNATURE_EXPIRED',
      'ERR_CERT_NOT_VALID_AT_TIME',
      'ERR_TIMESTAMP_MISSING',
      'ERR_TIMESTAMP_INVALID',
      'ERR_TIMESTAMP_UNTRUSTED',
      'ERR_TIMESTAMP_OUTSIDE_VALIDITY',
    ],
  },
  { title: 'Revocation', codes: ['ERR_CERT_REVOKED', 'ERR_REVOCATION_UNKNOWN'] },
  {
    title: 'Image references and registries',
    codes: [
      'ERR_REF_INVALID',
      'ERR_REF_AMBIGUOUS',
      'ERR_REF_DIGEST_MISMATCH',
      'ERR_REGISTRY_UNREACHABLE',
      'ERR_REGISTRY_TLS',
      'ERR_REGISTRY_UNAUTHORIZED',
      'ERR_REGISTRY_DENIED',
      'ERR_REGISTRY_NOT_FOUND',
      'ERR_REGISTRY_TIMEOUT',
      'ERR_REGISTRY_RATE_LIMITED',
      'ERR_REGISTRY_UNAVAILABLE',
      'ERR_REGISTRY_RESPONSE',
      'ERR_DOWNLOAD_BUDGET',
      'ERR_CREDENTIAL_HELPER',
    ],
  },
  {
    title: 'The webhook and the Gatekeeper provider',
    codes: [
      'ERR_DEADLINE_EXCEEDED',
      'ERR_REVIEW_TOO_MANY_REGISTRIES',
      'ERR_REVIEW_TOO_MANY_IMAGES',
      'ERR_UNSUPPORTED_KIND',
      'ERR_ADMISSION_INVALID',
      'ERR_BODY_TOO_LARGE',
      'ERR_CLIENT_CERT_REQUIRED',
      'ERR_PORT_IN_USE',
      'ERR_TLS_FILE',
      'ERR_POLICY_DIR_UNREADABLE',
      'ERR_KUBE_API',
    ],
  },
  {
    title: 'Signing, keys and layouts (CLI)',
    codes: [
      'ERR_KEY_NOT_FOUND',
      'ERR_KEY_INVALID',
      'ERR_KEY_EXISTS',
      'ERR_PLUGIN_NOT_FOUND',
      'ERR_PLUGIN_FAILED',
      'ERR_PLUGIN_UNAVAILABLE',
      'ERR_SIGNATURE_FILE_EXISTS',
      'ERR_TIMESTAMP_FAILED',
      'ERR_POLICY_EXISTS',
      'ERR_CERT_NOT_FOUND',
      'ERR_LAYOUT_INVALID',
      'ERR_LAYOUT_NOT_FOUND',
    ],
  },
  { title: 'Everything else', codes: ['ERR_INTERNAL'] },
];

/** Every code's guidance (the two files split it by concern; together they cover every code). */
export const GUIDANCE: Readonly<Record<ErrorCode, Guidance>> = { ...VERIFICATION_GUIDANCE, ...OPERATIONS_GUIDANCE };
