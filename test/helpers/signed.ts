import { createPrivateKey } from 'node:crypto';
import { signEnvelope } from '../../src/envelope/index.js';
import type { SignRequest } from '../../src/envelope/types.js';
import type { Descriptor } from '../../src/oci/descriptor.js';
import { MEDIA_TYPE } from '../../src/oci/media-types.js';
import { buildSignatureManifest } from '../../src/signing/signature-manifest.js';
import { digestOf } from '../../src/util/digest.js';
import { verifyArtifact, type ArtifactVerification, type SignatureSource } from '../../src/verify/index.js';
import { loadTrustPolicy } from '../../src/policy/index.js';
import { CertificateCache, parseCertificate } from '../../src/x509/certificate.js';

/** An image manifest to sign: real bytes, so its descriptor is honest. */
export function makeArtifact(seed = 'app'): { descriptor: Descriptor; bytes: Uint8Array } {
  const bytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: digestOf(new TextEncoder().encode(seed)),
        size: seed.length,
      },
      layers: [],
    }),
  );
  return { bytes, descriptor: { mediaType: MEDIA_TYPE.ociManifest, digest: digestOf(bytes), size: bytes.length } };
}

export interface SignOptions {
  readonly format?: 'jws' | 'cose';
  readonly keyPem: string;
  readonly chainDer: readonly Uint8Array[];
  readonly artifact: Descriptor;
  readonly signingTime?: Date;
  readonly expiry?: Date;
  readonly scheme?: SignRequest['signingScheme'];
  readonly timestampSignature?: Uint8Array;
  readonly extendedAttributes?: SignRequest['extendedAttributes'];
  readonly payloadOverride?: Uint8Array;
}

export function payloadFor(artifact: Descriptor): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ targetArtifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size } }),
  );
}

/** Signs an artifact with Portcullis' own signer; returns the envelope bytes and media type. */
export function signArtifact(opts: SignOptions): { envelope: Uint8Array; mediaType: string } {
  const format = opts.format ?? 'jws';
  const envelope = signEnvelope(
    format,
    {
      payload: opts.payloadOverride ?? payloadFor(opts.artifact),
      signingTime: opts.signingTime ?? new Date(Date.now() - 60_000),
      ...(opts.scheme === undefined ? {} : { signingScheme: opts.scheme }),
      ...(opts.expiry === undefined ? {} : { expiry: opts.expiry }),
      ...(opts.timestampSignature === undefined ? {} : { timestampSignature: opts.timestampSignature }),
      ...(opts.extendedAttributes === undefined ? {} : { extendedAttributes: opts.extendedAttributes }),
      signingAgent: 'portcullis-test',
    },
    { privateKey: createPrivateKey(opts.keyPem), certificateChain: opts.chainDer.map((d) => parseCertificate(d)) },
  );
  return { envelope, mediaType: format === 'jws' ? MEDIA_TYPE.jws : MEDIA_TYPE.cose };
}

/** An in-memory SignatureSource: signature manifests and blobs by digest. */
export class MemorySignatureSource implements SignatureSource {
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #signatures: Descriptor[] = [];
  fetches = 0;

  addSignature(
    subject: Descriptor,
    envelope: Uint8Array,
    envelopeMediaType: string,
    shape: 'artifactType' | 'legacy' = 'artifactType',
  ): Descriptor {
    const built = buildSignatureManifest({
      subject,
      envelope,
      envelopeMediaType,
      thumbprints: [],
      signingTime: new Date(0),
      shape,
    });
    this.#blobs.set(built.descriptor.digest, built.manifest);
    this.#blobs.set(built.envelopeDescriptor.digest, envelope);
    this.#signatures.push(built.descriptor);
    return built.descriptor;
  }

  /** A raw manifest (for malformed-manifest tests). */
  addRawManifest(bytes: Uint8Array): Descriptor {
    const d = { mediaType: MEDIA_TYPE.ociManifest, digest: digestOf(bytes), size: bytes.length };
    this.#blobs.set(d.digest, bytes);
    this.#signatures.push(d);
    return d;
  }

  async listSignatures(): Promise<readonly Descriptor[]> {
    return [...this.#signatures];
  }

  async fetchManifest(d: Descriptor): Promise<Uint8Array> {
    return this.fetchBlob(d);
  }

  async fetchBlob(d: Descriptor): Promise<Uint8Array> {
    this.fetches++;
    const b = this.#blobs.get(d.digest);
    if (b === undefined) throw new Error(`no blob ${d.digest}`);
    return b;
  }
}

/**
 * Verifies an envelope for `artifact` under a strict `*` policy trusting `ca` (and, when given,
 * the TSA root `tsa`, which makes a timestamp mandatory): what a signer's output must pass.
 */
export function verifyEnvelopeFor(
  artifact: Descriptor,
  signed: { readonly envelope: Uint8Array; readonly mediaType: string },
  ca: Uint8Array,
  tsa?: Uint8Array,
): Promise<ArtifactVerification> {
  const source = new MemorySignatureSource();
  source.addSignature(artifact, signed.envelope, signed.mediaType);
  const trustStores = ['ca:test', ...(tsa === undefined ? [] : ['tsa:ts'])];
  const map = new Map([['ca:test', [parseCertificate(ca)]]]);
  if (tsa !== undefined) map.set('tsa:ts', [parseCertificate(tsa)]);
  return verifyArtifact(
    { reference: `registry.test/app@${artifact.digest}`, repository: 'registry.test/app', artifact },
    {
      policy: loadTrustPolicy(
        JSON.stringify({
          version: '1.0',
          trustPolicies: [
            {
              name: 'test',
              registryScopes: ['*'],
              signatureVerification: { level: 'strict' },
              trustStores,
              trustedIdentities: ['*'],
            },
          ],
        }),
      ),
      trustStores: { get: (type, name) => map.get(`${type}:${name}`) },
      source,
      at: new Date(),
      certificateCache: new CertificateCache(),
    },
  );
}
