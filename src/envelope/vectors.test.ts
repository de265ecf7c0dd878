import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CertificateCache } from '../x509/certificate.js';
import { parseEnvelope, parsePayload, type VerifiedEnvelope } from './index.js';
import { codeOf } from '../../test/helpers/errors.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const read = (rel: string): Uint8Array => new Uint8Array(readFileSync(path.join(VECTORS, rel)));

/** The envelope (media type and bytes) of a signature manifest in one of the e2e OCI layouts. */
function layoutEnvelope(layout: string, manifestDigest: string): { mediaType: string; bytes: Uint8Array } {
  const blob = (digest: string): Uint8Array =>
    read(`notation/e2e/oci_layout/${layout}/blobs/sha256/${digest.replace(/^sha256:/, '')}`);
  const manifest = JSON.parse(Buffer.from(blob(manifestDigest)).toString('utf8')) as {
    layers: { mediaType: string; digest: string }[];
  };
  const layer = manifest.layers[0]!;
  return { mediaType: layer.mediaType, bytes: blob(layer.digest) };
}

const jws = (rel: string): VerifiedEnvelope => parseEnvelope('application/jose+json', read(rel));

describe('notation e2e OCI layout envelopes', () => {
  it('A1: parses the valid signature (PS256, notary.x509, +08:00 signing time, x5c = e2e.crt)', () => {
    const { mediaType, bytes } = layoutEnvelope(
      'e2e-valid-signature',
      'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f',
    );
    const env = parseEnvelope(mediaType, bytes);
    expect(env.algorithm).toBe('PS256');
    expect(env.signed.signingScheme).toBe('notary.x509');
    expect(env.signed.signingTime?.toISOString()).toBe('2023-06-27T05:30:33.000Z');
    expect(env.signed.expiry).toBeUndefined();
    expect(env.unsigned.certificateChain).toHaveLength(1);
    expect(env.unsigned.certificateChain[0]!.subject).toContain('CN=e2e');
    expect(parsePayload(env.payload).targetArtifact).toMatchObject({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9',
      size: 517,
    });
  });

  it('A3: rejects a layer of media type application/vnd.oci.image.layer.v1.tar as an unsupported envelope', () => {
    const { mediaType, bytes } = layoutEnvelope(
      'e2e-invalid-signature',
      'sha256:321fcc674d6771dd0e5bd21e599f2df3a482de99a400fd3a3fe371221b97a9c9',
    );
    expect(mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(Buffer.from(bytes).toString()).toBe('invalid signature\n');
    expect(() => parseEnvelope(mediaType, bytes)).toThrow(
      'signature envelope format with media type "application/vnd.oci.image.layer.v1.tar" is not supported',
    );
    expect(codeOf(() => parseEnvelope(mediaType, bytes))).toBe('ERR_ENVELOPE_UNSUPPORTED');
  });

  it('A4: parses the envelope signed by the expired certificate (validity is not an integrity matter)', () => {
    const { mediaType, bytes } = layoutEnvelope(
      'e2e-with-expired-cert',
      'sha256:b06e392c2d88206b492dbaf5381800578611eb24f86587bc7717cd3b736e5da7',
    );
    const env = parseEnvelope(mediaType, bytes);
    expect(env.signed.signingTime?.toISOString()).toBe('2023-06-27T06:07:26.000Z');
    expect(env.unsigned.certificateChain[0]!.notAfter.toISOString()).toBe('2023-06-27T06:10:00.000Z');
    expect(env.unsigned.timestampSignature).toBeUndefined();
  });

  it('A6: parses both signatures of the multiple-signature layout', () => {
    for (const digest of [
      'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f',
      'sha256:c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf',
    ]) {
      const { mediaType, bytes } = layoutEnvelope('e2e-valid-multiple-signatures', digest);
      const env = parseEnvelope(mediaType, bytes);
      expect(env.algorithm).toBe('PS256');
      expect(parsePayload(env.payload).targetArtifact.size).toBe(517);
    }
  });

  it('A7: parses the timestamped envelope (expiry, annotations, timestamp token)', () => {
    const { mediaType, bytes } = layoutEnvelope(
      'e2e-with-timestamped-signature',
      'sha256:6a5cd3a886707a317935dcaf13954fc80ef9aeb665262b6ae4fe469ad7ea3aea',
    );
    const env = parseEnvelope(mediaType, bytes);
    expect(env.algorithm).toBe('PS256');
    expect(env.signed.signingTime?.toISOString()).toBe('2025-01-21T09:17:46.000Z');
    expect(env.signed.expiry?.toISOString()).toBe('2025-01-21T12:39:46.000Z');
    expect(env.unsigned.timestampSignature?.length).toBeGreaterThan(1000);
    expect(env.unsigned.certificateChain[0]!.sha256).toMatch(/^1717fa9d/);
    const target = parsePayload(env.payload).targetArtifact;
    expect(target).toMatchObject({ size: 582, annotations: { purpose: 'e2e' } });
  });
});

describe('notation-go verifier vectors (parse and integrity)', () => {
  it('B1: accepts the mock CA envelope (PS384, expiry 2120, capitalised SigningAgent member)', () => {
    const env = jws('notation-go/mock/ca_valid_sig_env.json');
    expect(env.algorithm).toBe('PS384');
    expect(env.signed.expiry?.toISOString()).toBe('2120-11-09T07:00:00.000Z');
    expect(env.unsigned.certificateChain).toHaveLength(2);
    expect(env.unsigned.signingAgent).toBeTypeOf('string');
    expect(parsePayload(env.payload).targetArtifact.digest).toBe(
      'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
    );
  });

  it('B2: rejects a base64url payload with padding as malformed (integrity failure)', () => {
    // notation: "signature is invalid. Error: illegal base64 data at input byte 242". The strict
    // decoder fails before any signature math, so Portcullis reports ERR_ENVELOPE_MALFORMED.
    expect(codeOf(() => jws('notation-go/mock/ca_invalid_sig_env.json'))).toBe('ERR_ENVELOPE_MALFORMED');
  });

  it('B3: parses the expired envelope; expiry is reported, not judged, at this level', () => {
    const env = jws('notation-go/mock/ca_expired_sig_env.json');
    expect(env.signed.expiry?.toISOString()).toBe('2022-07-29T23:59:00.000Z');
  });

  it('B8: rejects an unsupported envelope media type', () => {
    expect(() => parseEnvelope('application/unsupported+json', new Uint8Array())).toThrow(
      'signature envelope format with media type "application/unsupported+json" is not supported',
    );
    expect(codeOf(() => parseEnvelope('application/unsupported+json', new Uint8Array()))).toBe(
      'ERR_ENVELOPE_UNSUPPORTED',
    );
  });

  it('B9: returns the verification plugin and the unknown critical attribute for the workflow to judge', () => {
    const env = jws('notation-go/mock/ca_plugin_sig_env.json');
    expect(env.signed.verificationPlugin).toBe('plugin-name');
    expect(env.signed.extendedAttributes).toEqual([{ key: 'SomeKey', value: 'SomeValue', critical: true }]);
  });

  it.each([
    ['ca_compatible_pluginver_sig_env_0.0.9.json', '0.0.9'],
    ['ca_compatible_pluginver_sig_env_1.0.0.json', '1.0.0'],
    ['ca_compatible_pluginver_sig_env_1.0.0-alpha.beta.json', '1.0.0-alpha.beta'],
    ['ca_incompatible_pluginver_sig_env_1.0.9.json', '1.0.9'],
    ['ca_incompatible_pluginver_sig_env_1.2.3.json', '1.2.3'],
  ])('B10-B14: %s carries plugin minimum version %s', (file, version) => {
    const env = jws(`notation-go/mock/${file}`);
    expect(env.signed.verificationPlugin).toBe('io.cncf.notary.plugin.unittest.mock');
    expect(env.signed.verificationPluginMinVersion).toBe(version);
    expect(env.signed.extendedAttributes).toEqual([]);
  });

  it.each(['jwsWithTimestamp.sig', 'jwsExpiredWithTimestamp.sig', 'timestampBeforeNotBefore.sig'])(
    'B16: %s parses with its timestamp token and primitive signature',
    (file) => {
      const env = jws(`notation-go/timestamp/sigEnv/${file}`);
      expect(env.unsigned.timestampSignature?.[0]).toBe(0x30); // DER SEQUENCE (CMS ContentInfo)
      expect(env.signature.length).toBe(256); // RSA-2048 PS256: what the token imprints
    },
  );

  it('B16: withoutTimestamp.sig parses with no timestamp token', () => {
    expect(jws('notation-go/timestamp/sigEnv/withoutTimestamp.sig').unsigned.timestampSignature).toBeUndefined();
  });

  it('B19: parses the COSE and JWS signatures of the internal test layout', () => {
    const cose = parseEnvelope('application/cose', read('notation-go/internal/cose_signature.sig'));
    expect(cose.mediaType).toBe('application/cose');
    expect(cose.algorithm).toBe('PS256');
    expect(parsePayload(cose.payload).targetArtifact.size).toBe(481);
    const env = jws('notation-go/internal/jws_signature.sig');
    expect(parsePayload(env.payload).targetArtifact.digest).toMatch(/^sha256:19dbd2e4/);
  });

  it('A8/B15: parses the blob signatures (sha384 digest payload, non-Z offset)', () => {
    const blob = jws('notation-go/blob/testSig.jws.sig');
    expect(blob.algorithm).toBe('PS384');
    expect(blob.signed.signingTime?.toISOString()).toBe('2024-04-04T22:03:06.000Z');
    expect(parsePayload(blob.payload).targetArtifact.annotations).toEqual({ buildId: '101' });
    expect(jws('notation/e2e/signatures/blob.jws.sig').unsigned.signingAgent).toBe('notation-go/1.3.0+unreleased');
    expect(codeOf(() => jws('notation/e2e/signatures/malformed.jws.sig'))).toBe('ERR_ENVELOPE_MALFORMED');
  });

  it('shares parsed certificates through a CertificateCache', () => {
    const cache = new CertificateCache();
    const a = parseEnvelope('application/jose+json', read('notation-go/mock/ca_valid_sig_env.json'), {
      certificateCache: cache,
    });
    const b = parseEnvelope('application/jose+json', read('notation-go/mock/ca_expired_sig_env.json'), {
      certificateCache: cache,
    });
    expect(a.unsigned.certificateChain[1]).toBe(b.unsigned.certificateChain[1]);
  });
});

describe('notation-core-go conformance vectors as parse input', () => {
  it('C1: rejects the JWS conformance envelope: certificate chain is not present', () => {
    const bytes = read('notation-core-go/conformance/jws-conformance.json');
    expect(() => parseEnvelope('application/jose+json', bytes)).toThrow('certificate chain is not present');
    expect(codeOf(() => parseEnvelope('application/jose+json', bytes))).toBe('ERR_ENVELOPE_MALFORMED');
  });

  it('C1: rejects the COSE conformance message: certificate chain is not present', () => {
    const doc = JSON.parse(Buffer.from(read('notation-core-go/conformance/cose-conformance.json')).toString()) as {
      expectedOutput: { cborHex: string };
    };
    const bytes = new Uint8Array(Buffer.from(doc.expectedOutput.cborHex, 'hex'));
    expect(() => parseEnvelope('application/cose', bytes)).toThrow('certificate chain is not present');
    expect(codeOf(() => parseEnvelope('application/cose', bytes))).toBe('ERR_ENVELOPE_MALFORMED');
  });
});
