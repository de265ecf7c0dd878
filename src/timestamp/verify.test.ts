import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificateFile, type Certificate } from '../x509/certificate.js';
import { identifySigner } from './signer-info.js';
import { parseTimestampToken, type TimestampToken } from './token.js';
import { accuracyMsOf, verifyTimestamp, type TimestampVerification } from './verify.js';
import { caught as failure } from '../../test/helpers/errors.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const read = (rel: string): Uint8Array => new Uint8Array(readFileSync(path.join(VECTORS, rel)));
const tsp = (name: string): TimestampToken => parseTimestampToken(read(`tspclient-go/testdata/${name}`));
const cms = (name: string): TimestampToken => parseTimestampToken(read(`tspclient-go/cms/${name}`));
const ngo = (name: string): TimestampToken =>
  parseTimestampToken(read(`notation-go/timestamp/countersignature/${name}`));
const certs = (rel: string): Certificate[] => parseCertificateFile(read(rel));

/** GlobalSign Root CA - R3 (to 2029-03-18): anchors the tspclient-go tokens through the R6 cross certificate. */
const R3 = certs('tspclient-go/testdata/GlobalSignRootCA.crt');
/** GlobalSign Root CA - R6, the `tsa/test-timestamp` store of notation-go. */
const R6 = certs('notation-go/truststore/x509/tsa/test-timestamp/globalsignRoot.cer');
/** DigiCert Trusted Root G4, the `tsa/test-mismatch` store (B17-9). */
const DIGICERT = certs('notation-go/truststore/x509/tsa/test-mismatch/DigiCertTSARootSHA384.cer');

const NOTATION = new TextEncoder().encode('notation');

describe('timestamp verification against the tspclient-go vectors (E)', () => {
  it('verifies a GlobalSign token against the R3 root at its genTime (E1, E3)', () => {
    const result = verifyTimestamp(tsp('TimeStampToken.p7s'), { signature: NOTATION, trustedRoots: R3 });
    expect(result.genTime.toISOString()).toBe('2021-09-17T14:09:10.000Z');
    expect(result.accuracyMs).toBe(1000);
    expect(result.interval.notBefore.toISOString()).toBe('2021-09-17T14:09:09.000Z');
    expect(result.interval.notAfter.toISOString()).toBe('2021-09-17T14:09:11.000Z');
    expect(result.signer.subject).toBe('CN=Globalsign TSA for Advanced - G4,O=GlobalSign nv-sa,C=BE');
    // Leaf → TSA CA → R6 (cross-signed by R3) → R3, ending in the trusted certificate itself.
    expect(result.tsaChain).toHaveLength(4);
    expect(result.tsaChain[0]).toBe(result.signer);
    expect(result.tsaChain[3]).toBe(R3[0]);
  });

  it('rejects a token whose imprint does not match the signature (E2)', () => {
    const error = failure(() =>
      verifyTimestamp(tsp('TimeStampToken.p7s'), { signature: new TextEncoder().encode('invalid'), trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/mismatched message/);
  });

  it('rejects a token when no TSA root is trusted (E3, empty pool)', () => {
    const error = failure(() => verifyTimestamp(tsp('TimeStampToken.p7s'), { signature: NOTATION, trustedRoots: [] }));
    expect(error.code).toBe('ERR_TIMESTAMP_UNTRUSTED');
  });

  it('accepts a token where one of two SignerInfos verifies (E4, E21)', () => {
    for (const token of [
      tsp('TimeStampTokenWithValidAndInvalidSignerInfos.p7s'),
      cms('TimeStampTokenWithAnInvalidAndAValidSignerInfo.p7s'),
    ]) {
      expect(token.signerInfos).toHaveLength(2);
      const result = verifyTimestamp(token, { signature: NOTATION, trustedRoots: R3 });
      expect(result.signer.subject).toMatch(/Globalsign TSA for Advanced - G4/);
    }
  });

  it('rejects a token that embeds no certificates (E5)', () => {
    const error = failure(() =>
      verifyTimestamp(tsp('TimeStampTokenWithoutCertificate.p7s'), { signature: NOTATION, trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toBe('signing certificate not found in the timestamp token');
  });

  it('rejects a token whose CMS signature is invalid (E6)', () => {
    const error = failure(() =>
      verifyTimestamp(tsp('TimeStampTokenWithInvalidSignature.p7s'), { signature: NOTATION, trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/signature does not verify/);
  });

  it('requires the signing-certificate-v2 attribute (E11)', () => {
    const error = failure(() =>
      verifyTimestamp(tsp('TimeStampTokenWithoutSigningCertificate.p7s'), { signature: NOTATION, trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/signing-certificate-v2.*missing/);
  });

  it('finds the signer without the optional ESSCertIDv2 issuerSerial (E12)', () => {
    // The origin only looks the certificate up; the file's signed attributes were edited after
    // signing, so its CMS signature no longer verifies.
    const token = tsp('TimeStampTokenWithoutSigningCertificateV2IssuerSerial.p7s');
    const { signer } = identifySigner(token, token.signerInfos[0]!);
    expect(signer.subject).toMatch(/Globalsign TSA for Advanced - G4/);
    expect(failure(() => verifyTimestamp(token, { signature: NOTATION, trustedRoots: R3 })).code).toBe(
      'ERR_TIMESTAMP_INVALID',
    );
  });

  it('rejects a SHA-1 certificate hash in signing-certificate-v2 (E13)', () => {
    const error = failure(() =>
      verifyTimestamp(tsp('TimeStampTokenWithSHA1CertHash.p7s'), { signature: NOTATION, trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/unsupported certificate hash algorithm 1\.3\.14\.3\.2\.26/);
  });

  it('rejects a signing-certificate-v2 that lists no certificate (E14)', () => {
    const error = failure(() =>
      verifyTimestamp(tsp('TimeStampTokenWithSigningCertificateV2NoCert.p7s'), {
        signature: NOTATION,
        trustedRoots: R3,
      }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toBe('signing-certificate-v2 does not contain any certificate');
  });
});

describe('timestamp verification against the tspclient-go CMS vectors (E15-E25)', () => {
  it('verifies with the cms R3 root or with the last embedded certificate as the trusted root (E15)', () => {
    const token = cms('TimeStampToken.p7s');
    expect(token.certificates).toHaveLength(4);
    const withR3 = verifyTimestamp(token, {
      signature: NOTATION,
      trustedRoots: certs('tspclient-go/cms/GlobalSignRootCA.crt'),
    });
    expect(withR3.tsaChain.map((c) => c.der)).toEqual(token.certificates.map((c) => c.der));
    const lastEmbedded = token.certificates[3]!;
    const withEmbedded = verifyTimestamp(token, { signature: NOTATION, trustedRoots: [lastEmbedded] });
    expect(withEmbedded.tsaChain.at(-1)).toBe(lastEmbedded);
    expect(failure(() => verifyTimestamp(token, { signature: NOTATION, trustedRoots: [] })).code).toBe(
      'ERR_TIMESTAMP_UNTRUSTED',
    );
  });

  it('rejects a token with a corrupted embedded certificate at parsing (E16)', () => {
    // The embedded certificate claims version 0 (encoded -1); like the origin, parsing fails.
    const error = failure(() => cms('TimeStampTokenWithInvalidCertificates.p7s'));
    expect(['ERR_TIMESTAMP_INVALID', 'ERR_CERT_MALFORMED']).toContain(error.code);
    expect(error.message).toMatch(/version/);
  });

  it('rejects a SignerInfo whose version does not fit its identifier (E18)', () => {
    const error = failure(() =>
      verifyTimestamp(cms('TimeStampTokenWithSignerVersion2.p7s'), { signature: NOTATION, trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/SignerInfo version 2/);
  });

  it('requires signed attributes (E25)', () => {
    const error = failure(() =>
      verifyTimestamp(cms('TimeStampTokenWithoutSignedAttributes.p7s'), { signature: NOTATION, trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toBe('timestamp SignerInfo has no signed attributes');
  });

  it('requires the content-type attribute (E22)', () => {
    const error = failure(() =>
      verifyTimestamp(cms('TimeStampTokenWithoutSignedAttributeContentType.p7s'), {
        signature: NOTATION,
        trustedRoots: R3,
      }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/content-type is missing/);
  });

  it('requires the message-digest attribute (E23)', () => {
    const error = failure(() =>
      verifyTimestamp(cms('TimeStampTokenWithoutSignedAttributeDigest.p7s'), { signature: NOTATION, trustedRoots: R3 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/message-digest is missing/);
  });

  it('accepts a signing-time attribute inside the signer validity (E24)', () => {
    // Like E12, the origin checks only the signed attributes: the attribute was added without
    // re-signing, so the full verification fails on the signature.
    const token = cms('TimeStampTokenWithSigningTime.p7s');
    expect(identifySigner(token, token.signerInfos[0]!).signer.subject).toMatch(/Globalsign TSA/);
    expect(failure(() => verifyTimestamp(token, { signature: NOTATION, trustedRoots: R3 })).message).toMatch(
      /signature does not verify/,
    );
  });
});

interface Jws {
  readonly signature: string;
  readonly header: Record<string, unknown>;
}

function jws(name: string): { signature: Uint8Array; token: TimestampToken; leaf: Certificate } {
  const env = JSON.parse(readFileSync(path.join(VECTORS, 'notation-go/timestamp/sigEnv', name), 'utf8')) as Jws;
  const tokenB64 = env.header['io.cncf.notary.timestampSignature'] as string;
  const x5c = env.header['x5c'] as string[];
  return {
    // The imprint covers the base64url-decoded JWS signature; the token itself is standard base64.
    signature: new Uint8Array(Buffer.from(env.signature, 'base64url')),
    token: parseTimestampToken(new Uint8Array(Buffer.from(tokenB64, 'base64'))),
    leaf: parseCertificateFile(new Uint8Array(Buffer.from(x5c[0]!, 'base64')))[0]!,
  };
}

const within = (v: TimestampVerification, cert: Certificate): boolean =>
  v.interval.notBefore.getTime() >= cert.notBefore.getTime() &&
  v.interval.notAfter.getTime() <= cert.notAfter.getTime();

describe('timestamp verification against the notation-go envelopes (B16)', () => {
  it('verifies the token of jwsWithTimestamp.sig against the R6 tsa store at genTime (B16-1)', () => {
    const { signature, token, leaf } = jws('jwsWithTimestamp.sig');
    const result = verifyTimestamp(token, { signature, trustedRoots: R6 });
    expect(result.genTime.toISOString()).toBe('2024-06-18T06:29:37.000Z');
    expect(result.accuracyMs).toBe(1000);
    expect(token.info.policy).toBe('1.3.6.1.4.1.4146.2.3');
    expect(result.signer.subject).toMatch(/TSA for Advanced - G4 - 202311/);
    expect(result.tsaChain).toHaveLength(3);
    expect(result.tsaChain[2]).toBe(R6[0]);
    expect(within(result, leaf)).toBe(true);
  });

  it('verifies the token of an envelope whose signing certificate has since expired (B16-2)', () => {
    const { signature, token, leaf } = jws('jwsExpiredWithTimestamp.sig');
    const result = verifyTimestamp(token, { signature, trustedRoots: R6 });
    expect(result.genTime.toISOString()).toBe('2024-06-18T07:21:42.000Z');
    expect(leaf.notAfter.toISOString()).toBe('2024-06-18T07:30:31.000Z');
    // The signing chain check against the interval is the caller's; here the data supports it.
    expect(within(result, leaf)).toBe(true);
  });

  it('verifies the token of timestampBeforeNotBefore.sig, whose interval precedes the signing certificate (B16-8)', () => {
    const { signature, token, leaf } = jws('timestampBeforeNotBefore.sig');
    const result = verifyTimestamp(token, { signature, trustedRoots: R6 });
    expect(result.genTime.toISOString()).toBe('2024-06-19T09:30:14.000Z');
    expect(result.interval.notBefore.getTime()).toBeLessThan(leaf.notBefore.getTime());
    expect(within(result, leaf)).toBe(false);
  });

  it('does not anchor the GlobalSign tokens in the DigiCert tsa store (B17-9)', () => {
    for (const name of ['jwsWithTimestamp.sig', 'jwsExpiredWithTimestamp.sig', 'timestampBeforeNotBefore.sig']) {
      const { signature, token } = jws(name);
      const error = failure(() => verifyTimestamp(token, { signature, trustedRoots: DIGICERT }));
      expect(error.code).toBe('ERR_TIMESTAMP_UNTRUSTED');
    }
  });

  it('rejects a token that covers other signature bytes (B16-6: `mismatch`)', () => {
    const error = failure(() =>
      verifyTimestamp(ngo('TimeStampToken.p7s'), { signature: new TextEncoder().encode('mismatch'), trustedRoots: R6 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/mismatched message/);
  });

  it('rejects a token from one envelope used with another envelope signature', () => {
    const a = jws('jwsWithTimestamp.sig');
    const b = jws('jwsExpiredWithTimestamp.sig');
    expect(failure(() => verifyTimestamp(a.token, { signature: b.signature, trustedRoots: R6 })).code).toBe(
      'ERR_TIMESTAMP_INVALID',
    );
  });

  it('rejects a token without certificates (B16-7: signing certificate not found)', () => {
    const error = failure(() =>
      verifyTimestamp(ngo('TimeStampTokenWithoutCertificate.p7s'), { signature: NOTATION, trustedRoots: R6 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toBe('signing certificate not found in the timestamp token');
  });

  it('chains the 2021 notation-go token to R6 too (R6 valid at genTime)', () => {
    const result = verifyTimestamp(ngo('TimeStampToken.p7s'), { signature: NOTATION, trustedRoots: R6 });
    // The TSA CA is issued by the trusted self-signed R6, so the embedded R3 cross-certificate is not needed.
    expect(result.tsaChain).toHaveLength(3);
    expect(result.tsaChain.at(-1)).toBe(R6[0]);
  });
});

describe('timestamp accuracy', () => {
  const info = (accuracy: { seconds: number; millis: number; micros: number } | undefined, policy: string) => ({
    ...tsp('TimeStampToken.p7s').info,
    accuracy,
    policy,
  });

  it('uses the TSTInfo accuracy, rounding microseconds up', () => {
    expect(accuracyMsOf(info({ seconds: 2, millis: 5, micros: 1 }, '1.2.3'))).toBe(2006);
  });

  it('uses 1 s under the RFC 3628 baseline policy when accuracy is absent', () => {
    expect(accuracyMsOf(info(undefined, '0.4.0.2023.1.1'))).toBe(1000);
  });

  it('uses 0 when accuracy is absent under any other policy', () => {
    expect(accuracyMsOf(info(undefined, '1.3.6.1.4.1.4146.2.3'))).toBe(0);
  });
});
