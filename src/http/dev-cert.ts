// @peculiar/x509 resolves its parsers through tsyringe, which needs the Reflect metadata API first.
import 'reflect-metadata';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as px from '@peculiar/x509';

/**
 * A development CA and a serving certificate for `127.0.0.1`, `::1` and `localhost`, for
 * `portcullis serve` without `--tls-cert/--tls-key`. Never for production: the CA's key is
 * discarded, and anyone who trusts the CA trusts this one server certificate.
 *
 * Files written to `dir`: `ca.crt` (give it to clients), `tls.crt`, `tls.key` (mode 0600). An
 * existing set that is still valid for a day and whose key matches is reused, so a client that
 * trusted the CA keeps working across restarts.
 */

export interface DevCertificate {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caPem: string;
  /** Whether the files were made now (false: reused). */
  readonly created: boolean;
}

export interface DevCertificateOptions {
  /** The clock reading to issue at. Default now. */
  readonly now?: Date;
  /** Validity of both certificates, days. Default 365. */
  readonly days?: number;
  /** Extra DNS names for the serving certificate. */
  readonly dnsNames?: readonly string[];
}

type Crypto = NonNullable<Parameters<typeof px.X509CertificateGenerator.create>[1]>;
type Keys = Parameters<typeof px.X509CertificateGenerator.createSelfSigned>[0]['keys'];
const crypto = webcrypto as unknown as Crypto;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f; // a positive INTEGER
  return bytes.toString('hex');
}

async function reuse(dir: string, now: Date): Promise<DevCertificate | undefined> {
  const files = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  try {
    const [caPem, certPem, keyPem] = await Promise.all([
      readFile(files.caFile, 'utf8'),
      readFile(files.certFile, 'utf8'),
      readFile(files.keyFile, 'utf8'),
    ]);
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    const soon = now.getTime() + DAY;
    if (Date.parse(cert.validTo) < soon || Date.parse(ca.validTo) < soon) return undefined;
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(createPrivateKey(keyPem)))
      return undefined;
    return { dir, ...files, caPem, created: false };
  } catch {
    return undefined;
  }
}

export async function ensureDevCertificate(dir: string, options: DevCertificateOptions = {}): Promise<DevCertificate> {
  const now = options.now ?? new Date();
  const existing = await reuse(dir, now);
  if (existing !== undefined) return existing;

  const notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate small clock skew
  const notAfter = new Date(now.getTime() + (options.days ?? 365) * DAY);
  const caKeys = (await webcrypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const caName = `CN=Portcullis development CA ${now.toISOString().slice(0, 10)},O=Portcullis`;
  const ca = await px.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: caName,
      notBefore,
      notAfter,
      signingAlgorithm: EC,
      keys: caKeys as unknown as Keys,
      extensions: [
        new px.BasicConstraintsExtension(true, 0, true),
        new px.KeyUsagesExtension(px.KeyUsageFlags.keyCertSign | px.KeyUsageFlags.cRLSign, true),
        await px.SubjectKeyIdentifierExtension.create(caKeys.publicKey as unknown as Keys['publicKey'], false, crypto),
      ],
    },
    crypto,
  );
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const names = [
    { type: 'ip' as const, value: '127.0.0.1' },
    { type: 'ip' as const, value: '::1' },
    { type: 'dns' as const, value: 'localhost' },
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  const leaf = await px.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: 'CN=localhost,O=Portcullis',
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: EC,
      publicKey: keys.publicKey as unknown as Keys['publicKey'],
      signingKey: caKeys.privateKey as unknown as Keys['privateKey'],
      extensions: [
        new px.BasicConstraintsExtension(false, undefined, true),
        new px.KeyUsagesExtension(px.KeyUsageFlags.digitalSignature, true),
        new px.ExtendedKeyUsageExtension([px.ExtendedKeyUsage.serverAuth], false),
        new px.SubjectAlternativeNameExtension(names, false),
        await px.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as Keys['publicKey'], false, crypto),
        await px.AuthorityKeyIdentifierExtension.create(
          caKeys.publicKey as unknown as Keys['publicKey'],
          false,
          crypto,
        ),
      ],
    },
    crypto,
  );
  const keyPem = px.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.crt');
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const caPem = ca.toString('pem');
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  await writeFile(certFile, leaf.toString('pem'));
  await writeFile(caFile, caPem);
  return { dir, caFile, certFile, keyFile, caPem, created: true };
}
