import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestTsa, type TsaHash } from '../../test/helpers/tsa.js';
import { PortcullisError } from '../errors/index.js';
import { CertificateCache, parseCertificate, type Certificate } from '../x509/certificate.js';
import { parseTimestampToken } from './token.js';
import { buildTsaChain } from './tsa-chain.js';
import { verifyTimestamp, type TimestampVerification } from './verify.js';
import { caught as failure } from '../../test/helpers/errors.js';

const DAY = 24 * 3600_000;

function verifyDer(
  der: Uint8Array,
  signature: Uint8Array,
  trustedRoots: readonly Certificate[],
  cache?: CertificateCache,
): TimestampVerification {
  return verifyTimestamp(parseTimestampToken(der, cache), { signature, trustedRoots });
}

describe('timestamp tokens from a real openssl ts authority', () => {
  const tsas: TestTsa[] = [];
  const make = (...args: ConstructorParameters<typeof TestTsa>): TestTsa => {
    const tsa = new TestTsa(...args);
    tsas.push(tsa);
    return tsa;
  };
  let rsa: TestTsa;
  let ecdsa: TestTsa;
  let rsaRoot: Certificate;
  let ecdsaRoot: Certificate;
  const signature = new Uint8Array(randomBytes(256));

  beforeAll(() => {
    rsa = make({ key: 'rsa-3072', name: 'RSA TSA' });
    ecdsa = make({ key: 'ec-384', name: 'ECDSA TSA', intermediate: true });
    rsaRoot = parseCertificate(rsa.rootDer);
    ecdsaRoot = parseCertificate(ecdsa.rootDer);
  });
  afterAll(() => {
    for (const tsa of tsas) tsa.cleanup();
  });

  for (const hash of ['sha256', 'sha384', 'sha512'] as TsaHash[]) {
    it(`verifies an RSA TSA token with a ${hash} imprint`, () => {
      const before = Date.now();
      const result = verifyDer(rsa.timestamp(signature, hash), signature, [rsaRoot]);
      expect(result.genTime.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(result.genTime.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      // accuracy = secs:1, millisecs:500, microsecs:100 → 1501 ms (micros rounded up).
      expect(result.accuracyMs).toBe(1501);
      expect(result.interval.notAfter.getTime() - result.interval.notBefore.getTime()).toBe(3002);
      expect(result.signer.subject).toBe('CN=RSA TSA Signer,O=RSA TSA,C=US');
      expect(result.tsaChain.map((c) => c.subject)).toEqual([
        'CN=RSA TSA Signer,O=RSA TSA,C=US',
        'CN=RSA TSA Root,O=RSA TSA,C=US',
      ]);
      expect(result.tsaChain[1]).toBe(rsaRoot);
    });

    it(`verifies an ECDSA TSA token with a ${hash} imprint through an intermediate`, () => {
      const der = ecdsa.timestamp(signature, hash);
      const token = parseTimestampToken(der);
      expect(token.info.messageImprint.hashAlgorithm).toBe(hash);
      expect(token.info.nonce).toBeTypeOf('bigint');
      const result = verifyTimestamp(token, { signature, trustedRoots: [ecdsaRoot] });
      expect(result.tsaChain).toHaveLength(3);
      expect(result.signer.key.type).toBe('EC');
    });
  }

  it('gets signing-certificate-v2 (ESSCertIDv2, RFC 5035) from openssl 3 with ess_cert_id_alg = sha256', () => {
    const token = parseTimestampToken(rsa.timestamp(signature, 'sha256'));
    const types = token.signerInfos[0]!.signedAttributes!.map((a) => a.type);
    expect(types).toContain('1.2.840.113549.1.9.16.2.47');
    expect(types).not.toContain('1.2.840.113549.1.9.16.2.12');
  });

  it('ends the chain at a trusted intermediate when the store holds that intermediate', () => {
    const intermediate = parseCertificate(ecdsa.intermediate!.certDer);
    const result = verifyDer(ecdsa.timestamp(signature, 'sha256'), signature, [intermediate]);
    expect(result.tsaChain.map((c) => c.subject)).toEqual([
      'CN=ECDSA TSA Signer,O=ECDSA TSA,C=US',
      'CN=ECDSA TSA Intermediate,O=ECDSA TSA,C=US',
    ]);
    expect(result.tsaChain[1]).toBe(intermediate);
  });

  it('rejects a token whose TSA chains to another root', () => {
    const error = failure(() => verifyDer(rsa.timestamp(signature, 'sha256'), signature, [ecdsaRoot]));
    expect(error.code).toBe('ERR_TIMESTAMP_UNTRUSTED');
  });

  it('rejects a token over other bytes', () => {
    const other = new Uint8Array(signature);
    other[0] = (other[0]! ^ 1) & 0xff;
    const error = failure(() => verifyDer(rsa.timestamp(signature, 'sha256'), other, [rsaRoot]));
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
  });

  it('rejects a token that carries no certificates (certReq false)', () => {
    const der = rsa.timestamp(signature, 'sha256', { certReq: false });
    expect(parseTimestampToken(der).certificates).toHaveLength(0);
    const error = failure(() => verifyDer(der, signature, [rsaRoot]));
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toBe('signing certificate not found in the timestamp token');
  });

  it('verifies a token without accuracy under the baseline policy as ±1 s', () => {
    const tsa = make({ key: 'ec-256', accuracy: null, policy: '0.4.0.2023.1.1', name: 'Baseline TSA' });
    const result = verifyDer(tsa.timestamp(signature, 'sha256', { nonce: false }), signature, [
      parseCertificate(tsa.rootDer),
    ]);
    expect(result.accuracyMs).toBe(1000);
  });

  it('verifies a token without accuracy under another policy as exact', () => {
    const tsa = make({ key: 'ec-256', accuracy: null, name: 'Exact TSA' });
    const result = verifyDer(tsa.timestamp(signature, 'sha256'), signature, [parseCertificate(tsa.rootDer)]);
    expect(result.accuracyMs).toBe(0);
    expect(result.interval.notBefore.getTime()).toBe(result.genTime.getTime());
  });

  it('rejects a token signed with a SHA-1 digest', () => {
    const tsa = make({ key: 'ec-256', signerDigest: 'sha1', name: 'SHA1 TSA' });
    const error = failure(() =>
      verifyDer(tsa.timestamp(signature, 'sha256'), signature, [parseCertificate(tsa.rootDer)]),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/digest algorithm 1\.3\.14\.3\.2\.26/);
  });

  it('rejects a token that names its certificate only with the SHA-1 signing-certificate (v1) attribute', () => {
    const tsa = make({ key: 'ec-256', essCertIdAlg: 'sha1', name: 'ESSv1 TSA' });
    const der = tsa.timestamp(signature, 'sha256');
    const types = parseTimestampToken(der).signerInfos[0]!.signedAttributes!.map((a) => a.type);
    expect(types).toContain('1.2.840.113549.1.9.16.2.12');
    const error = failure(() => verifyDer(der, signature, [parseCertificate(tsa.rootDer)]));
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/signing-certificate-v2.*missing/);
  });

  it('rejects a token whose TSA certificate had expired at genTime', () => {
    const now = Date.now();
    const tsa = make({
      key: 'ec-256',
      leafNotBefore: new Date(now - 10 * DAY),
      leafNotAfter: new Date(now - DAY),
      name: 'Expired TSA',
    });
    const error = failure(() =>
      verifyDer(tsa.timestamp(signature, 'sha256'), signature, [parseCertificate(tsa.rootDer)]),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    // OpenSSL also adds a signing-time attribute, which is outside the validity too.
    expect(error.message).toMatch(/validity/);
  });

  it('rejects a token whose TSA certificate was not yet valid at genTime', () => {
    const now = Date.now();
    const tsa = make({
      key: 'ec-256',
      leafNotBefore: new Date(now + DAY),
      leafNotAfter: new Date(now + 10 * DAY),
      name: 'Future TSA',
    });
    const error = failure(() =>
      verifyDer(tsa.timestamp(signature, 'sha256'), signature, [parseCertificate(tsa.rootDer)]),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(error.message).toMatch(/validity/);
  });

  it('evaluates the TSA chain at the timestamp time, not at any other time', () => {
    const token = parseTimestampToken(rsa.timestamp(signature, 'sha256'));
    const signer = verifyTimestamp(token, { signature, trustedRoots: [rsaRoot] }).signer;
    const at = (t: number) => () => buildTsaChain(signer, token.certificates, [rsaRoot], new Date(t));
    expect(at(token.info.genTime.getTime())()).toHaveLength(2);
    const late = failure(at(signer.notAfter.getTime() + 1));
    expect(late.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(late.message).toMatch(/after the validity period of TSA certificate "CN=RSA TSA Signer/);
    const early = failure(at(signer.notBefore.getTime() - 1));
    expect(early.message).toMatch(/before the validity period/);
  });

  describe('tampering', () => {
    let der: Uint8Array;
    let reference: TimestampVerification;
    // Unchanged certificates are parsed once; changed ones are new cache entries.
    const cache = new CertificateCache(4096);
    let root: Certificate;
    beforeAll(() => {
      // A small token (P-256 keys, no intermediate) keeps the byte-by-byte loops quick.
      const small = make({ key: 'ec-256', caKey: 'ec-256', name: 'Small TSA' });
      root = parseCertificate(small.rootDer);
      der = small.timestamp(signature, 'sha256');
      reference = verifyDer(der, signature, [root]);
    });

    /** Offsets of `part` inside the token bytes. */
    function region(part: Uint8Array): number[] {
      const at = Buffer.from(der).indexOf(Buffer.from(part));
      expect(at).toBeGreaterThan(0);
      return Array.from({ length: part.length }, (_, i) => at + i);
    }

    function flipped(offset: number): Uint8Array {
      const copy = new Uint8Array(der);
      copy[offset] = copy[offset]! ^ 0x01;
      return copy;
    }

    /** Offsets of the TSTInfo, the signed attributes, the signature and the signer certificate. */
    function protectedOffsets(): Set<number> {
      const token = parseTimestampToken(der);
      const si = token.signerInfos[0]!;
      const signedAttrsContent = si.signedAttributesDer!.subarray(2); // after the SET header
      return new Set([
        ...region(token.eContent),
        ...region(signedAttrsContent),
        ...region(si.signature),
        ...region(reference.signer.der),
      ]);
    }

    it('never passes when a byte of the TSTInfo, signed attributes, signature or signer certificate changes', () => {
      for (const offset of protectedOffsets()) {
        const error = failure(() => verifyDer(flipped(offset), signature, [root], cache));
        expect(error.code, `byte ${offset}`).toMatch(/^ERR_TIMESTAMP_(INVALID|UNTRUSTED)$/);
      }
    });

    it('fails with a typed error or leaves every verified fact unchanged, whichever other byte changes', () => {
      const covered = protectedOffsets();
      for (let offset = 0; offset < der.length; offset++) {
        if (covered.has(offset)) continue;
        let result: TimestampVerification;
        try {
          result = verifyDer(flipped(offset), signature, [root], cache);
        } catch (error) {
          expect(error, `byte ${offset}`).toBeInstanceOf(PortcullisError);
          expect((error as PortcullisError).code, `byte ${offset}`).toMatch(/^ERR_TIMESTAMP_(INVALID|UNTRUSTED)$/);
          continue;
        }
        // Bytes outside what is signed (e.g. an unneeded embedded root) may change harmlessly.
        expect(result.genTime.getTime(), `byte ${offset}`).toBe(reference.genTime.getTime());
        expect(result.accuracyMs).toBe(reference.accuracyMs);
        expect(Buffer.from(result.signer.der).equals(Buffer.from(reference.signer.der)), `byte ${offset}`).toBe(true);
        expect(result.tsaChain.at(-1)).toBe(root);
      }
    });
  });
});
