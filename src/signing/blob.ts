import { basename, join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import type { EnvelopeFormat, EnvelopeMediaType, SignRequest } from '../envelope/index.js';
import type { Descriptor } from '../oci/index.js';
import { MEDIA_TYPE } from '../oci/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import type { SignResult, Signer } from './signer.js';

/**
 * Detached blob signatures as notation makes them (`notation blob sign`; signature-specification.md
 * "Blob signatures"): the payload is `{"targetArtifact": <descriptor of the blob>}`, the descriptor's
 * digest computed with the hash the signing key implies (RSA-2048/EC-256 → sha256, RSA-3072/EC-384
 * → sha384, RSA-4096/EC-521 → sha512), its media type application/octet-stream unless given, user
 * metadata as its annotations; the envelope is written beside the blob as
 * `<blob file name>.<jws|cose>.sig`.
 */

export const DEFAULT_BLOB_MEDIA_TYPE = 'application/octet-stream';

/** A signer that can say which hash describes a blob (LocalKeySigner, PluginSigner). */
export interface BlobSigner extends Signer {
  blobDigestAlgorithm(): Promise<DigestAlgorithm>;
}

export interface BlobToSign {
  readonly size: number;
  digest(algorithm: DigestAlgorithm): Promise<string>;
}

export interface BlobSignOptions {
  readonly format: EnvelopeFormat;
  readonly mediaType?: string;
  /** Passed in: the signing code reads no clock of its own. */
  readonly signingTime: Date;
  readonly expiry?: Date;
  readonly userMetadata?: Readonly<Record<string, string>>;
  readonly signingAgent: string;
}

export async function signBlob(
  signer: BlobSigner,
  blob: BlobToSign,
  options: BlobSignOptions,
): Promise<SignResult & { readonly descriptor: Descriptor }> {
  const mediaType = options.mediaType ?? DEFAULT_BLOB_MEDIA_TYPE;
  if (
    mediaType === '' ||
    !/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/.test(mediaType)
  ) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `--media-type ${JSON.stringify(mediaType)} is not a media type (type/subtype)`,
    );
  }
  const algorithm = await signer.blobDigestAlgorithm();
  const descriptor: Descriptor = {
    mediaType,
    digest: await blob.digest(algorithm),
    size: blob.size,
    ...(options.userMetadata === undefined || Object.keys(options.userMetadata).length === 0
      ? {}
      : { annotations: { ...options.userMetadata } }),
  };
  const request: SignRequest = {
    payload: new TextEncoder().encode(JSON.stringify({ targetArtifact: descriptor })),
    signingTime: options.signingTime,
    signingAgent: options.signingAgent,
    ...(options.expiry === undefined ? {} : { expiry: options.expiry }),
  };
  return { ...(await signer.sign(request, options.format)), descriptor };
}

/** notation's name for the signature of `blobPath`: `<directory>/<blob file name>.<format>.sig`. */
export function blobSignaturePath(directory: string, blobPath: string, format: EnvelopeFormat): string {
  return join(directory, `${basename(blobPath)}.${format}.sig`);
}

/**
 * The envelope media type a signature file's name says (notation `blob verify`/`inspect`): the
 * extension must be `.sig` and the part before it the format, `jws` or `cose` (`my.bin.jws.sig`).
 */
export function signatureMediaTypeOfFile(signaturePath: string): EnvelopeMediaType {
  const name = basename(signaturePath);
  const parts = name.split('.');
  if (parts.length === 0 || (parts[parts.length - 1] ?? '').toLowerCase() !== 'sig') {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `invalid signature filename ${name}. The file extension must be .sig`,
    );
  }
  if (parts.length < 3) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `invalid signature filename ${name}. A valid signature file name must contain signature format and .sig file extension`,
    );
  }
  const format = (parts[parts.length - 2] as string).toLowerCase();
  if (format === 'jws') return MEDIA_TYPE.jws;
  if (format === 'cose') return MEDIA_TYPE.cose;
  throw new PortcullisError('ERR_INPUT_INVALID', `signature format "${format}" not supported`);
}
