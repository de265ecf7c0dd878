import { PortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import { isJsonObject, parseStrictJson, type Mutable } from '../util/index.js';

/**
 * The Notary payload (signature-specification.md "Payload"; notary-spec-digest §2):
 * `{"targetArtifact": <OCI descriptor>}` with mediaType, digest and size required and
 * annotations / artifactType optional. Read only after the signature verified; parsed strictly
 * (duplicate keys rejected) so the verifier and any other reader see the same descriptor.
 * The digest string is only type-checked here: payload matching compares it byte-exactly with
 * the resolved artifact digest, and blob signatures may use sha384/sha512.
 */
export interface NotaryPayload {
  readonly targetArtifact: Descriptor;
}

const MAX_PAYLOAD_BYTES = 1024 * 1024;
const MAX_PAYLOAD_DEPTH = 16;

function invalid(message: string): PortcullisError {
  return new PortcullisError('ERR_PAYLOAD_INVALID', message);
}

export function parsePayload(bytes: Uint8Array): NotaryPayload {
  const doc = parseStrictJson(bytes, {
    maxBytes: MAX_PAYLOAD_BYTES,
    maxDepth: MAX_PAYLOAD_DEPTH,
    code: 'ERR_PAYLOAD_INVALID',
    what: 'signature payload',
  });
  if (!isJsonObject(doc)) throw invalid('payload is not a JSON object');
  const target = doc['targetArtifact'];
  if (target === undefined) throw invalid('payload has no "targetArtifact"');
  if (!isJsonObject(target)) throw invalid('"targetArtifact" is not a JSON object');

  const { mediaType, digest, size, annotations, artifactType } = target;
  if (typeof mediaType !== 'string' || mediaType === '')
    throw invalid('"targetArtifact.mediaType" must be a non-empty string');
  if (typeof digest !== 'string' || digest === '') throw invalid('"targetArtifact.digest" must be a non-empty string');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid('"targetArtifact.size" must be a non-negative integer');
  }
  const descriptor: Mutable<Descriptor> = { mediaType, digest, size };
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string') throw invalid('"targetArtifact.artifactType" must be a string');
    descriptor.artifactType = artifactType;
  }
  if (annotations !== undefined) {
    if (!isJsonObject(annotations)) throw invalid('"targetArtifact.annotations" must be an object');
    const map: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) {
      if (typeof v !== 'string') throw invalid(`annotation "${k}" must be a string`);
      Object.defineProperty(map, k, { value: v, enumerable: true, writable: false, configurable: false });
    }
    descriptor.annotations = map;
  }
  return { targetArtifact: descriptor };
}
