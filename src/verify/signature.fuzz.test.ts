import { decode as decodeCbor, Tag } from 'cbor2';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteMutation, fuzz, fuzzTimeout, jsonMutation, mutateBytes, mutateJson } from '../../test/helpers/fuzz.js';
import { codeSigningChain, Pki, type CodeSigningChain } from '../../test/helpers/pki.js';
import { makeArtifact, signArtifact, verifyEnvelopeFor } from '../../test/helpers/signed.js';
import { isPortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import { loadTrustPolicy } from '../policy/index.js';
import { buildSignatureManifest } from '../signing/signature-manifest.js';
import { digestOf } from '../util/digest.js';
import { CertificateCache, parseCertificate } from '../x509/certificate.js';
import { verifyArtifact, type ArtifactVerification, type SignatureSource } from './index.js';

/**
 * Valid signatures, mutated: JWS and COSE envelopes (bytes and structure), their signature
 * manifests, and the signing certificate's DER. Invariants: verification never crashes (an
 * error is a PortcullisError or a failed check), answers in bounded time, and never verifies
 * unless the signed bytes — the JWS protected header, payload and signature, the COSE protected
 * header, payload and signature, the certificate — are exactly the original ones.
 */

const pki = new Pki();
let chain: CodeSigningChain;
const artifact = makeArtifact('fuzz');
let jws: { envelope: Uint8Array; mediaType: string };
let cose: { envelope: Uint8Array; mediaType: string };

beforeAll(() => {
  chain = codeSigningChain(pki, { leafKey: 'ec-256', caKey: 'ec-256' });
  jws = signArtifact({
    format: 'jws',
    keyPem: chain.leaf.keyPem,
    chainDer: chain.chainDer,
    artifact: artifact.descriptor,
  });
  cose = signArtifact({
    format: 'cose',
    keyPem: chain.leaf.keyPem,
    chainDer: chain.chainDer,
    artifact: artifact.descriptor,
  });
});
afterAll(() => pki.cleanup());

/** Verifies, timing it; a thrown error must be a PortcullisError (a typed, explained failure). */
async function verify(signed: { envelope: Uint8Array; mediaType: string }): Promise<ArtifactVerification | undefined> {
  const started = performance.now();
  try {
    return await verifyEnvelopeFor(artifact.descriptor, signed, chain.root.certDer);
  } catch (error) {
    expect(isPortcullisError(error), `not a PortcullisError: ${String(error)}`).toBe(true);
    return undefined;
  } finally {
    expect(performance.now() - started).toBeLessThan(2_000);
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

function jwsSignedParts(bytes: Uint8Array): { protected: unknown; payload: unknown; signature: unknown } | undefined {
  try {
    const doc = JSON.parse(text(bytes)) as Record<string, unknown>;
    return { protected: doc['protected'], payload: doc['payload'], signature: doc['signature'] };
  } catch {
    return undefined;
  }
}

function coseSignedParts(bytes: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] | undefined {
  try {
    const tag = decodeCbor(bytes) as unknown;
    if (!(tag instanceof Tag) || !Array.isArray(tag.contents)) return undefined;
    const [prot, , payload, signature] = tag.contents as unknown[];
    return [prot as Uint8Array, payload as Uint8Array, signature as Uint8Array];
  } catch {
    return undefined;
  }
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  a !== undefined && b !== undefined && Buffer.from(a).equals(Buffer.from(b));

describe('valid signatures, mutated', () => {
  it('the unmutated envelopes verify (the baseline every mutation is measured against)', async () => {
    expect((await verify(jws))?.verified).toBe(true);
    expect((await verify(cose))?.verified).toBe(true);
  });

  it(
    'a JWS envelope with mutated bytes verifies only if its protected header, payload and signature are unchanged',
    async () => {
      const original = jwsSignedParts(jws.envelope);
      await fc.assert(
        fc.asyncProperty(fc.array(byteMutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          const envelope = mutateBytes(jws.envelope, mutations);
          const result = await verify({ envelope, mediaType: jws.mediaType });
          if (result?.verified === true) expect(jwsSignedParts(envelope)).toEqual(original);
        }),
        fuzz(150),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'a JWS envelope with mutated JSON verifies only if its signed members are unchanged',
    async () => {
      const doc = JSON.parse(text(jws.envelope)) as Record<string, unknown>;
      const original = jwsSignedParts(jws.envelope);
      let stillVerified = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(jsonMutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
          const envelope = new TextEncoder().encode(JSON.stringify(mutateJson(doc, mutations)));
          const result = await verify({ envelope, mediaType: jws.mediaType });
          if (result?.verified === true) {
            stillVerified++;
            expect(jwsSignedParts(envelope)).toEqual(original);
          }
        }),
        fuzz(150),
      );
      // not vacuous: mutations of unsigned members (the unprotected header) do still verify
      expect(stillVerified).toBeGreaterThan(0);
    },
    fuzzTimeout(60_000),
  );

  it(
    'a COSE envelope with mutated bytes verifies only if its protected header, payload and signature are unchanged',
    async () => {
      const [prot, payload, signature] = coseSignedParts(cose.envelope) as [Uint8Array, Uint8Array, Uint8Array];
      await fc.assert(
        fc.asyncProperty(fc.array(byteMutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          const envelope = mutateBytes(cose.envelope, mutations);
          const result = await verify({ envelope, mediaType: cose.mediaType });
          if (result?.verified === true) {
            const parts = coseSignedParts(envelope);
            expect(
              parts !== undefined && same(parts[0], prot) && same(parts[1], payload) && same(parts[2], signature),
            ).toBe(true);
          }
        }),
        fuzz(150),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'a signing certificate with mutated DER never verifies, and never crashes the parser',
    async () => {
      const doc = JSON.parse(text(jws.envelope)) as { header: { x5c: string[] } };
      const leaf = chain.leaf.certDer;
      await fc.assert(
        fc.asyncProperty(fc.array(byteMutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
          const der = mutateBytes(leaf, mutations);
          try {
            parseCertificate(der);
          } catch (error) {
            expect(isPortcullisError(error), String(error)).toBe(true);
          }
          const x5c = [Buffer.from(der).toString('base64'), ...doc.header.x5c.slice(1)];
          const envelope = new TextEncoder().encode(JSON.stringify({ ...doc, header: { ...doc.header, x5c } }));
          const result = await verify({ envelope, mediaType: jws.mediaType });
          if (result?.verified === true) expect(Buffer.from(der).equals(Buffer.from(leaf))).toBe(true);
        }),
        fuzz(150),
      );
    },
    fuzzTimeout(60_000),
  );
});

describe('signature manifests, mutated', () => {
  /** A source listing one signature manifest (served as `manifest` under `descriptor`) and the JWS envelope. */
  function source(
    descriptor: Descriptor,
    manifest: Uint8Array,
    envelope: { digest: string; bytes: Uint8Array },
  ): SignatureSource {
    return {
      listSignatures: async () => [descriptor],
      fetchManifest: async () => manifest,
      fetchBlob: async (d) => {
        if (d.digest !== envelope.digest) throw new Error(`no blob ${d.digest}`);
        return envelope.bytes;
      },
    };
  }

  function verifyWith(src: SignatureSource): Promise<ArtifactVerification | undefined> {
    const trusted = new Map([['ca:test', [parseCertificate(chain.root.certDer)]]]);
    return verifyArtifact(
      {
        reference: `registry.test/app@${artifact.descriptor.digest}`,
        repository: 'registry.test/app',
        artifact: artifact.descriptor,
      },
      {
        policy: loadTrustPolicy(
          JSON.stringify({
            version: '1.0',
            trustPolicies: [
              {
                name: 't',
                registryScopes: ['*'],
                signatureVerification: { level: 'strict' },
                trustStores: ['ca:test'],
                trustedIdentities: ['*'],
              },
            ],
          }),
        ),
        trustStores: { get: (type, name) => trusted.get(`${type}:${name}`) },
        source: src,
        at: new Date(),
        certificateCache: new CertificateCache(),
      },
    ).catch((error: unknown) => {
      expect(isPortcullisError(error), String(error)).toBe(true);
      return undefined;
    });
  }

  it(
    'bytes that do not match the digest they were listed under never verify',
    async () => {
      const built = buildSignatureManifest({
        subject: artifact.descriptor,
        envelope: jws.envelope,
        envelopeMediaType: jws.mediaType,
        thumbprints: [],
        signingTime: new Date(0),
        shape: 'artifactType',
      });
      const envelope = { digest: built.envelopeDescriptor.digest, bytes: jws.envelope };
      expect((await verifyWith(source(built.descriptor, built.manifest, envelope)))?.verified).toBe(true);
      await fc.assert(
        fc.asyncProperty(fc.array(byteMutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          const manifest = mutateBytes(built.manifest, mutations);
          const result = await verifyWith(source(built.descriptor, manifest, envelope));
          if (result?.verified === true) expect(Buffer.from(manifest).equals(Buffer.from(built.manifest))).toBe(true);
        }),
        fuzz(200),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'a structurally mutated manifest (listed under its own digest) verifies only if it still names the signed envelope as a Notary signature',
    async () => {
      const built = buildSignatureManifest({
        subject: artifact.descriptor,
        envelope: jws.envelope,
        envelopeMediaType: jws.mediaType,
        thumbprints: [],
        signingTime: new Date(0),
        shape: 'artifactType',
      });
      const doc = JSON.parse(text(built.manifest)) as Record<string, unknown>;
      const envelope = { digest: built.envelopeDescriptor.digest, bytes: jws.envelope };
      let stillVerified = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(jsonMutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
          const manifest = new TextEncoder().encode(JSON.stringify(mutateJson(doc, mutations)));
          const descriptor: Descriptor = {
            mediaType: MEDIA_TYPE.ociManifest,
            digest: digestOf(manifest),
            size: manifest.length,
          };
          const result = await verifyWith(source(descriptor, manifest, envelope));
          if (result?.verified !== true) return;
          stillVerified++;
          const m = JSON.parse(text(manifest)) as {
            artifactType?: unknown;
            config?: { mediaType?: unknown };
            layers?: { digest?: unknown; mediaType?: unknown }[];
          };
          expect(
            m.artifactType === MEDIA_TYPE.notarySignature || m.config?.mediaType === MEDIA_TYPE.notarySignature,
          ).toBe(true);
          expect(m.layers?.[0]?.digest).toBe(envelope.digest);
          expect(m.layers?.[0]?.mediaType).toBe(jws.mediaType);
        }),
        fuzz(200),
      );
      expect(stillVerified).toBeGreaterThan(0); // annotations and the like are not signed: those mutations still verify
    },
    fuzzTimeout(60_000),
  );
});
