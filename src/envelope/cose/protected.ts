import { Tag } from 'cbor2';
import { PortcullisError } from '../../errors/index.js';
import { algorithmFromCoseLabel } from '../algorithms.js';
import { isTimeHeader, type ProtectedHeaderFields } from '../attributes.js';
import type { SignatureAlgorithm } from '../types.js';
import { decodeCbor } from './cbor-decode.js';
import { COSE_LABEL, EPOCH_TIME_TAG } from './headers.js';

/**
 * Decodes the COSE protected header bucket (signature-envelope-cose.md; RFC 9052 §3): a bstr
 * wrapping a CBOR map, decoded on its own so the signature is checked over the bytes exactly as
 * received. Integer labels other than alg (1), crit (2) and content type (3) are rejected:
 * notation writes none, and extended attributes are text-labelled. Times must be CBOR tag 1 with
 * integer epoch seconds (notation-core-go decodes with TimeTag required and rejects other tags).
 */
export interface CoseProtectedHeader {
  readonly algorithm: SignatureAlgorithm;
  readonly fields: ProtectedHeaderFields;
  /** Every label in the bucket, to check the unprotected bucket does not repeat one. */
  readonly labels: ReadonlySet<unknown>;
}

const NO_REGISTERED: ReadonlySet<string> = new Set();

function invalid(message: string): PortcullisError {
  return new PortcullisError('ERR_ENVELOPE_HEADER_INVALID', message);
}

export function decodeCoseProtectedHeader(raw: Uint8Array): CoseProtectedHeader {
  if (raw.length === 0) throw invalid('COSE protected header is empty (alg, crit and cty are required)');
  const map = decodeCbor(raw, 'COSE protected header');
  if (!(map instanceof Map)) throw new PortcullisError('ERR_ENVELOPE_MALFORMED', 'COSE protected header is not a map');

  let algorithm: SignatureAlgorithm | undefined;
  let contentType: string | undefined;
  let crit: string[] | undefined;
  const headers = new Map<string, unknown>();
  for (const [label, value] of map as Map<unknown, unknown>) {
    if (label === COSE_LABEL.alg) {
      algorithm = algorithmFromCoseLabel(value);
      if (algorithm === undefined) {
        throw new PortcullisError('ERR_ENVELOPE_ALGORITHM', `COSE algorithm ${String(value)} is not supported`);
      }
    } else if (label === COSE_LABEL.crit) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw invalid('crit (label 2) must be an array of text labels');
      }
      crit = value as string[];
    } else if (label === COSE_LABEL.contentType) {
      if (typeof value !== 'string') throw invalid('content type (label 3) must be a text string');
      contentType = value;
    } else if (typeof label === 'string') {
      headers.set(label, isTimeHeader(label) ? epochTime(label, value) : value);
    } else {
      throw invalid(`COSE protected header label ${String(label)} is not allowed in a Notary envelope`);
    }
  }
  if (algorithm === undefined) throw invalid('missing alg (label 1)');
  if (contentType === undefined) throw invalid('missing content type (label 3)');
  if (crit === undefined) throw invalid('missing crit (label 2)');
  return {
    algorithm,
    fields: { contentType, crit, headers, registered: NO_REGISTERED },
    labels: new Set(map.keys()),
  };
}

function epochTime(label: string, value: unknown): Date {
  if (!(value instanceof Tag) || Number(value.tag) !== EPOCH_TIME_TAG) {
    throw invalid(`"${label}" must be a CBOR tag 1 (epoch seconds) time`);
  }
  const seconds = value.contents;
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds)) {
    throw invalid(`"${label}" must hold integer epoch seconds`);
  }
  const date = new Date(seconds * 1000);
  if (!Number.isFinite(date.getTime())) throw invalid(`"${label}" is out of range`);
  return date;
}
