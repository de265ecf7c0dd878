import { readFileSync, writeFileSync } from 'node:fs';
import { EXT, Pki, type Issued, type KeyAlg } from './pki.js';

/**
 * A real RFC 3161 timestamp authority for tests, driven by `openssl ts` (OpenSSL 3). It issues its
 * own TSA root (and optionally an intermediate) and a TSA leaf with a critical timeStamping-only
 * EKU, writes a `[tsa]` config section and answers requests with `openssl ts -reply`. With
 * `ess_cert_id_alg = sha256` OpenSSL emits signing-certificate-v2 (RFC 5035 ESSCertIDv2), which is
 * what notation requires.
 */

export type TsaHash = 'sha256' | 'sha384' | 'sha512';

export interface TsaOptions {
  /** The TSA leaf key (default rsa-2048). */
  readonly key?: KeyAlg;
  /** The CA key(s) (default ec-384). */
  readonly caKey?: KeyAlg;
  /** Put an intermediate CA between root and leaf. */
  readonly intermediate?: boolean;
  readonly leafNotBefore?: Date;
  readonly leafNotAfter?: Date;
  /** Extension lines of the TSA leaf (default EXT.tsaLeaf). */
  readonly leafExtensions?: readonly string[];
  /** Digest of the CMS signer (`signer_digest`; sha1 exists to test its rejection). */
  readonly signerDigest?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** Hash of ESSCertID(v2) (`ess_cert_id_alg`): sha1 makes OpenSSL emit v1 signing-certificate. */
  readonly essCertIdAlg?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** `accuracy` line value, e.g. `secs:1, millisecs:500`; null leaves accuracy out. */
  readonly accuracy?: string | null;
  /** TSA policy OID (default 1.2.3.4.1). */
  readonly policy?: string;
  /** Use an existing PKI directory (otherwise a fresh one, removed by cleanup()). */
  readonly pki?: Pki;
  /** Subject prefix, to tell several TSAs apart. */
  readonly name?: string;
}

export interface TimestampCallOptions {
  /** Ask for the TSA certificates (`-cert`, certReq); default true. */
  readonly certReq?: boolean;
  /** Include a nonce (default true, OpenSSL picks a random one). */
  readonly nonce?: boolean;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

export class TestTsa {
  readonly pki: Pki;
  readonly root: Issued;
  readonly intermediate: Issued | undefined;
  readonly leaf: Issued;
  readonly #ownsPki: boolean;
  readonly #id: string;
  #n = 0;

  constructor(opts: TsaOptions = {}) {
    this.#ownsPki = opts.pki === undefined;
    this.pki = opts.pki ?? new Pki();
    this.#id = `tsa${Math.random().toString(36).slice(2, 8)}`;
    const name = opts.name ?? 'Portcullis Test TSA';
    const caKey = opts.caKey ?? 'ec-384';
    const now = Date.now();
    this.root = this.pki.issue({
      subject: `/C=US/O=${name}/CN=${name} Root`,
      key: caKey,
      extensions: EXT.root,
      notBefore: new Date(now - 30 * DAY),
      notAfter: new Date(now + 3650 * DAY),
    });
    this.intermediate = opts.intermediate
      ? this.pki.issue({
          subject: `/C=US/O=${name}/CN=${name} Intermediate`,
          key: caKey,
          issuer: this.root,
          extensions: EXT.intermediate,
          notBefore: new Date(now - 30 * DAY),
          notAfter: new Date(now + 1825 * DAY),
        })
      : undefined;
    this.leaf = this.pki.issue({
      subject: `/C=US/O=${name}/CN=${name} Signer`,
      key: opts.key ?? 'rsa-2048',
      issuer: this.intermediate ?? this.root,
      extensions: opts.leafExtensions ?? EXT.tsaLeaf,
      notBefore: opts.leafNotBefore ?? new Date(now - DAY),
      notAfter: opts.leafNotAfter ?? new Date(now + 365 * DAY),
    });
    const id = this.#id;
    writeFileSync(this.pki.file(`${id}.signer.pem`), this.leaf.certPem);
    writeFileSync(this.pki.file(`${id}.signer.key`), this.leaf.keyPem);
    // The extra certificates OpenSSL adds after the signer when certReq is true.
    writeFileSync(this.pki.file(`${id}.chain.pem`), [this.intermediate?.certPem ?? '', this.root.certPem].join(''));
    writeFileSync(this.pki.file(`${id}.serial`), '01\n');
    const accuracy = opts.accuracy === undefined ? 'secs:1, millisecs:500, microsecs:100' : opts.accuracy;
    writeFileSync(
      this.pki.file(`${id}.cnf`),
      [
        '[tsa]',
        'default_tsa = t',
        '[t]',
        `dir = ${this.pki.dir}`,
        `serial = ${this.pki.file(`${id}.serial`)}`,
        `signer_cert = ${this.pki.file(`${id}.signer.pem`)}`,
        `certs = ${this.pki.file(`${id}.chain.pem`)}`,
        `signer_key = ${this.pki.file(`${id}.signer.key`)}`,
        `signer_digest = ${opts.signerDigest ?? 'sha256'}`,
        `default_policy = ${opts.policy ?? '1.2.3.4.1'}`,
        'other_policies = 1.2.3.4.5.6, 0.4.0.2023.1.1',
        'digests = sha256, sha384, sha512',
        ...(accuracy === null ? [] : [`accuracy = ${accuracy}`]),
        'clock_precision_digits = 3',
        'ordering = no',
        'tsa_name = yes',
        'ess_cert_id_chain = no',
        `ess_cert_id_alg = ${opts.essCertIdAlg ?? 'sha256'}`,
        '',
      ].join('\n'),
    );
  }

  /** The TSA root in DER, for a `tsa` trust store. */
  get rootDer(): Uint8Array {
    return this.root.certDer;
  }

  /**
   * Timestamps the signature bytes: `openssl ts -query -data … -<hash> -cert`, then
   * `openssl ts -reply -queryfile … -token_out`. Returns the DER TimeStampToken.
   */
  timestamp(signature: Uint8Array, hash: TsaHash, opts: TimestampCallOptions = {}): Uint8Array {
    const n = `${this.#id}.q${++this.#n}`;
    writeFileSync(this.pki.file(`${n}.data`), signature);
    const query = ['ts', '-query', '-data', `${n}.data`, `-${hash}`, '-out', `${n}.tsq`];
    if (opts.certReq ?? true) query.push('-cert');
    if (opts.nonce === false) query.push('-no_nonce');
    this.pki.openssl(query);
    return this.replyToken(this.pki.file(`${n}.tsq`));
  }

  /** Answers a DER TimeStampReq file with a full DER TimeStampResp (`openssl ts -reply`). */
  reply(requestDer: Uint8Array): Uint8Array {
    const n = `${this.#id}.r${++this.#n}`;
    writeFileSync(this.pki.file(`${n}.tsq`), requestDer);
    this.pki.openssl(['ts', '-reply', '-config', `${this.#id}.cnf`, '-queryfile', `${n}.tsq`, '-out', `${n}.tsr`]);
    return new Uint8Array(readFileSync(this.pki.file(`${n}.tsr`)));
  }

  /** Answers a request file with only the token (`-token_out`). */
  replyToken(requestFile: string): Uint8Array {
    const out = `${requestFile}.token`;
    this.pki.openssl([
      'ts',
      '-reply',
      '-config',
      `${this.#id}.cnf`,
      '-queryfile',
      requestFile,
      '-token_out',
      '-out',
      out,
    ]);
    return new Uint8Array(readFileSync(out));
  }

  cleanup(): void {
    if (this.#ownsPki) this.pki.cleanup();
  }
}
