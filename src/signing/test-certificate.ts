import '../x509/reflect-polyfill.js';
import { webcrypto, randomBytes } from 'node:crypto';
import * as px from '@peculiar/x509';

type CryptoKeyPairLike = Parameters<typeof px.X509CertificateGenerator.createSelfSigned>[0]['keys'];

export interface TestCertificateOptions {
  readonly name: string;
  /** RSA modulus size (2048, 3072, 4096) or EC curve (256, 384, 521). */
  readonly keyType: 'rsa' | 'ec';
  readonly bits: number;
  /** Validity start; the caller passes the clock reading. */
  readonly notBefore: Date;
  readonly days: number;
}

export interface TestCertificate {
  readonly keyPem: string;
  readonly certPem: string;
  readonly subject: string;
}

/**
 * A key and self-signed certificate that meet the Notary signing-certificate requirements
 * (keyUsage critical digitalSignature, EKU codeSigning, CA:FALSE), with notation's test subject
 * `CN=<name>,O=Notary,L=Seattle,ST=WA,C=US`. For trying things out, never for production.
 */
export async function generateTestCertificate(options: TestCertificateOptions): Promise<TestCertificate> {
  // @peculiar/x509 is typed against the DOM Crypto; node's webcrypto implements it.
  const crypto = webcrypto as unknown as NonNullable<
    Parameters<typeof px.X509CertificateGenerator.createSelfSigned>[1]
  >;
  const hash =
    options.keyType === 'rsa'
      ? 'SHA-256'
      : ({ 256: 'SHA-256', 384: 'SHA-384', 521: 'SHA-512' } as Record<number, string>)[options.bits];
  if (hash === undefined || (options.keyType === 'rsa' && ![2048, 3072, 4096].includes(options.bits))) {
    throw new Error(`unsupported key ${options.keyType}-${options.bits}: use rsa 2048/3072/4096 or ec 256/384/521`);
  }
  const algorithm =
    options.keyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: options.bits, publicExponent: new Uint8Array([1, 0, 1]), hash }
      : { name: 'ECDSA', namedCurve: `P-${options.bits}`, hash };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const subject = `CN=${options.name},O=Notary,L=Seattle,ST=WA,C=US`;
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f; // positive INTEGER
  const cert = await px.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(serial).toString('hex'),
      name: subject,
      notBefore: options.notBefore,
      notAfter: new Date(options.notBefore.getTime() + options.days * 86_400_000),
      signingAlgorithm: algorithm,
      keys: keys as unknown as CryptoKeyPairLike,
      extensions: [
        new px.BasicConstraintsExtension(false, undefined, false),
        new px.KeyUsagesExtension(px.KeyUsageFlags.digitalSignature, true),
        new px.ExtendedKeyUsageExtension([px.ExtendedKeyUsage.codeSigning], false),
        await px.SubjectKeyIdentifierExtension.create(
          keys.publicKey as unknown as CryptoKeyPairLike['publicKey'],
          false,
          crypto,
        ),
      ],
    },
    crypto,
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = px.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { keyPem, certPem: cert.toString('pem'), subject };
}
