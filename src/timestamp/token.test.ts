import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { CertificateCache } from '../x509/certificate.js';
import { parseTimestampToken } from './token.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const tsp = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(path.join(VECTORS, 'tspclient-go/testdata', name)));
const cms = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(VECTORS, 'tspclient-go/cms', name)));
const ngo = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(path.join(VECTORS, 'notation-go/timestamp/countersignature', name)));

function parseError(der: Uint8Array): PortcullisError {
  try {
    parseTimestampToken(der);
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected parseTimestampToken to fail');
}

describe('timestamp token parsing', () => {
  it('decodes the TSTInfo of a GlobalSign token (E1)', () => {
    const token = parseTimestampToken(tsp('TimeStampToken.p7s'));
    expect(token.contentType).toBe('1.2.840.113549.1.9.16.1.4');
    expect(token.version).toBe(3);
    expect(token.digestAlgorithmOids).toEqual(['2.16.840.1.101.3.4.2.1']);
    const { info } = token;
    expect(info.version).toBe(1);
    expect(info.policy).toBe('1.3.6.1.4.1.4146.2.3');
    expect(info.genTime.toISOString()).toBe('2021-09-17T14:09:10.000Z');
    expect(info.accuracy).toEqual({ seconds: 1, millis: 0, micros: 0 });
    expect(info.ordering).toBe(false);
    expect(info.nonce).toBeUndefined();
    expect(info.tsa).toBe('CN=Globalsign TSA for Advanced - G4,O=GlobalSign nv-sa,C=BE');
    expect(info.messageImprint.hashAlgorithm).toBe('sha256');
    // sha256("notation")
    expect(Buffer.from(info.messageImprint.hashedMessage).toString('hex')).toBe(
      '8326f4709d401dfabfa78302fb1cdea0f18048a44040c212bd8e28da6bc651c7',
    );
    expect(info.serialNumber).toBeTypeOf('bigint');
  });

  it('keeps the embedded certificates and the signer infos with their signed-attribute bytes', () => {
    const token = parseTimestampToken(tsp('TimeStampToken.p7s'));
    expect(token.certificates.map((c) => c.subject)).toEqual([
      'CN=Globalsign TSA for Advanced - G4,O=GlobalSign nv-sa,C=BE',
      'CN=GlobalSign Timestamping CA - SHA384 - G4,O=GlobalSign nv-sa,C=BE',
      'CN=GlobalSign,OU=GlobalSign Root CA - R6,O=GlobalSign', // R6 cross-signed by R3
      'CN=GlobalSign,OU=GlobalSign Root CA - R3,O=GlobalSign',
    ]);
    expect(token.signerInfos).toHaveLength(1);
    const si = token.signerInfos[0]!;
    expect(si.version).toBe(1);
    expect(si.sid.kind).toBe('issuerAndSerialNumber');
    expect(si.signedAttributes?.map((a) => a.type)).toEqual([
      '1.2.840.113549.1.9.3',
      '1.2.840.113549.1.9.52',
      '1.2.840.113549.1.9.4',
      '1.2.840.113549.1.9.16.2.47',
    ]);
    // RFC 5652 §5.4: the signed bytes start with the SET tag, not the [0] tag of the SignerInfo.
    expect(si.signedAttributesDer?.[0]).toBe(0x31);
    // The eContent is the DER TSTInfo (a SEQUENCE).
    expect(token.eContent[0]).toBe(0x30);
  });

  it('parses embedded certificates through the cache when one is given', () => {
    const cache = new CertificateCache();
    parseTimestampToken(tsp('TimeStampToken.p7s'), cache);
    parseTimestampToken(tsp('TimeStampTokenWithValidAndInvalidSignerInfos.p7s'), cache);
    expect(cache.size).toBe(4);
  });

  it('accepts a token without embedded certificates (the signer is looked up at verification)', () => {
    const token = parseTimestampToken(tsp('TimeStampTokenWithoutCertificate.p7s'));
    expect(token.certificates).toHaveLength(0);
  });

  it('rejects a token whose content is not id-ct-TSTInfo (E7, B16-5)', () => {
    for (const der of [
      tsp('TimeStampTokenWithInvalideContentType.p7s'),
      ngo('TimeStampTokenWithInvalideContentType.p7s'),
    ]) {
      const error = parseError(der);
      expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
      expect(error.message).toBe(
        'unexpected content type: 1.2.840.113549.1.7.1. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)',
      );
    }
  });

  it('rejects plain CMS signed data that is not a timestamp token (E19, E20 files)', () => {
    expect(parseError(cms('Sha1SignedData.p7s')).code).toBe('ERR_TIMESTAMP_INVALID');
    expect(parseError(cms('SignedDataWithoutSignedAttributes.p7s')).code).toBe('ERR_TIMESTAMP_INVALID');
  });

  it('rejects a TSTInfo whose genTime is a UTCTime (E8)', () => {
    const error = parseError(tsp('TimeStampTokenWithInvalidTSTInfo.p7s'));
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/cannot decode TSTInfo/);
  });

  it('rejects a TSTInfo of version 2 (E9)', () => {
    const error = parseError(tsp('TimeStampTokenWithTSTInfoVersion2.p7s'));
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toBe('timestamp token info version must be 1, but got 2');
  });

  it('rejects a message imprint whose hash is not SHA-2 (E10)', () => {
    const error = parseError(tsp('SHA1TimeStampToken.p7s'));
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/unrecognized hash algorithm.*1\.2\.840\.113549\.1\.1\.5/);
  });

  it('rejects a signed data without any SignerInfo (E17)', () => {
    expect(parseError(cms('TimeStampTokenWithoutSigner.p7s')).code).toBe('ERR_TIMESTAMP_INVALID');
  });

  it('rejects trailing bytes after the token', () => {
    const der = tsp('TimeStampToken.p7s');
    const padded = new Uint8Array(der.length + 1);
    padded.set(der);
    expect(parseError(padded).code).toBe('ERR_TIMESTAMP_INVALID');
  });

  it('rejects a truncated token and arbitrary bytes', () => {
    const der = tsp('TimeStampToken.p7s');
    expect(parseError(der.subarray(0, der.length - 10)).code).toBe('ERR_TIMESTAMP_INVALID');
    expect(parseError(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])).code).toBe('ERR_TIMESTAMP_INVALID');
    expect(parseError(new Uint8Array([])).code).toBe('ERR_TIMESTAMP_INVALID');
    expect(parseError(new TextEncoder().encode('not a token')).code).toBe('ERR_TIMESTAMP_INVALID');
  });

  it('rejects a BER indefinite-length encoding', () => {
    expect(parseError(new Uint8Array([0x30, 0x80, 0x00, 0x00])).code).toBe('ERR_TIMESTAMP_INVALID');
  });
});
