import { PortcullisError } from '../../errors/index.js';

/**
 * `admission.k8s.io/v1` AdmissionReview, as much of it as Portcullis reads
 * (k8s.io/api/admission/v1/types.go). The body is untrusted: `parseAdmissionReview` copies the
 * fields it needs into a fresh object and checks each one's type, with one precise message per
 * rule; `object` and `oldObject` stay opaque until the extractor reads them the same way.
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface AdmissionRequestView {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  /** Untrusted `request.resource` (the resource the webhook rule matched), read by `resourceOf` only for messages. */
  readonly resource: unknown;
  /** `ephemeralcontainers` for `pods/ephemeralcontainers`, else empty. */
  readonly subResource: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** CREATE, UPDATE, DELETE or CONNECT. */
  readonly operation: string;
  readonly dryRun: boolean;
  /** Untrusted: read only through the extractor. */
  readonly object: unknown;
  readonly oldObject: unknown;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly message: string; readonly reason?: string };
  readonly warnings?: readonly string[];
  readonly patchType?: 'JSONPatch';
  /** base64 of a JSON Patch (RFC 6902) document. */
  readonly patch?: string;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

/** The longest uid, name or kind string accepted; Kubernetes' own limits are far below this. */
const MAX_STRING = 1024;

function invalid(message: string): never {
  throw new PortcullisError('ERR_ADMISSION_INVALID', `malformed AdmissionReview: ${message}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property only: a JSON body never inherits, and `__proto__` must not be read through. */
export function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function str(record: Record<string, unknown>, key: string, where: string, required: boolean): string | undefined {
  const value = own(record, key);
  if (value === undefined || value === null) {
    if (required) invalid(`${where}.${key} is required`);
    return undefined;
  }
  if (typeof value !== 'string') invalid(`${where}.${key} must be a string, not ${describe(value)}`);
  if (value.length > MAX_STRING) invalid(`${where}.${key} is longer than ${MAX_STRING} characters`);
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Checks the envelope and copies the request fields Portcullis reads. Throws ERR_ADMISSION_INVALID. */
export function parseAdmissionReview(body: unknown): AdmissionRequestView {
  if (!isRecord(body)) invalid(`the body must be a JSON object, not ${describe(body)}`);
  const apiVersion = own(body, 'apiVersion');
  if (apiVersion !== ADMISSION_API_VERSION) {
    invalid(
      `apiVersion must be "${ADMISSION_API_VERSION}", not ${JSON.stringify(apiVersion) ?? 'absent'} (set admissionReviewVersions: ["v1"] in the webhook configuration)`,
    );
  }
  const kind = own(body, 'kind');
  if (kind !== 'AdmissionReview') invalid(`kind must be "AdmissionReview", not ${JSON.stringify(kind) ?? 'absent'}`);
  const request = own(body, 'request');
  if (!isRecord(request)) invalid(`request must be an object, not ${describe(request)}`);

  const uid = str(request, 'uid', 'request', true) as string;
  if (uid === '') invalid('request.uid must not be empty');
  const gvk = own(request, 'kind');
  if (!isRecord(gvk)) invalid(`request.kind must be an object, not ${describe(gvk)}`);
  const kindName = str(gvk, 'kind', 'request.kind', true) as string;
  const operation = str(request, 'operation', 'request', true) as string;
  const dryRun = own(request, 'dryRun');
  if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean') {
    invalid(`request.dryRun must be a boolean, not ${describe(dryRun)}`);
  }
  return {
    uid,
    kind: {
      group: str(gvk, 'group', 'request.kind', false) ?? '',
      version: str(gvk, 'version', 'request.kind', false) ?? '',
      kind: kindName,
    },
    resource: own(request, 'resource'),
    subResource: str(request, 'subResource', 'request', false) ?? '',
    namespace: str(request, 'namespace', 'request', false),
    name: str(request, 'name', 'request', false),
    operation,
    dryRun: dryRun === true,
    object: own(request, 'object') ?? null,
    oldObject: own(request, 'oldObject') ?? null,
  };
}

/**
 * The resource a request names (`request.resource`), for the messages that say which webhook
 * rule sent it. Read only off the hot path. The API server always sends it; when it is absent or
 * unreadable the kind's usual plural stands in (a message, not a decision, depends on it).
 */
export function resourceOf(review: AdmissionRequestView): GroupVersionResource {
  const r = review.resource;
  const field = (key: string): string | undefined => {
    const v = isRecord(r) ? own(r, key) : undefined;
    return typeof v === 'string' && v.length <= MAX_STRING ? v : undefined;
  };
  return {
    group: field('group') ?? review.kind.group,
    version: field('version') ?? review.kind.version,
    resource: field('resource') ?? `${review.kind.kind.toLowerCase()}s`,
  };
}

/** The uid of a body that failed validation, when it can be read, for logs. */
export function peekUid(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const request = own(body, 'request');
  if (!isRecord(request)) return undefined;
  const uid = own(request, 'uid');
  return typeof uid === 'string' && uid.length <= MAX_STRING ? uid : undefined;
}

export function reviewResponse(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
