import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away PKI driven by the real `openssl` CLI (`openssl ca`), for tests. Every
 * certificate is issued the way an operator would issue it, with explicit extensions and
 * validity windows, so chain and requirement checks are tested against real certificates.
 */

export type KeyAlg = 'rsa-1024' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-224' | 'ec-256' | 'ec-384' | 'ec-521';

export interface Issued {
  readonly certPem: string;
  readonly certDer: Uint8Array;
  readonly keyPem: string;
  readonly keyAlg: KeyAlg;
  /** openssl `-subj` form, e.g. `/C=US/ST=WA/O=Acme/CN=leaf`. */
  readonly subject: string;
}

export interface IssueOptions {
  /** openssl `-subj` form, e.g. `/C=US/ST=WA/O=Acme/CN=leaf`. */
  readonly subject: string;
  readonly key?: KeyAlg;
  /** Reuse an existing private key (PEM) instead of generating one. */
  readonly keyPem?: string;
  /** The issuing CA; omitted means self-signed. */
  readonly issuer?: Issued;
  /** Lines of the X.509 v3 extension section, e.g. `basicConstraints=critical,CA:TRUE`. */
  readonly extensions?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Digest the issuer signs with (sha1 exists to test its rejection). */
  readonly digest?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
}

/** Extension profiles that meet the Notary certificate requirements. */
export const EXT = {
  root: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash'],
  intermediate: [
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    'keyUsage=critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ],
  codeSigningLeaf: [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=codeSigning',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ],
  /** Self-signed signing certificate, as `notation cert generate-test` makes it. */
  selfSignedLeaf: ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning'],
  /** A TLS server certificate for the loopback servers tests start. */
  serverLeaf: [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ],
  /** A TLS client certificate (mutual TLS tests). */
  clientLeaf: ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'],
  tsaLeaf: [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=critical,timeStamping',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ],
} as const;

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function opensslTime(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export class Pki {
  readonly dir: string;
  #serial = 0x1000;
  #n = 0;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'portcullis-pki-'));
  }

  /** Runs openssl in the PKI directory; throws with stderr on failure. */
  openssl(args: readonly string[], input?: string | Uint8Array): Buffer {
    return execFileSync('openssl', args, { cwd: this.dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  generateKey(alg: KeyAlg): string {
    const [kind, size] = alg.split('-') as [string, string];
    const args =
      kind === 'rsa'
        ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${size}`]
        : ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:P-${size}`];
    return this.openssl(args).toString();
  }

  issue(opts: IssueOptions): Issued {
    const id = `c${++this.#n}`;
    const keyAlg = opts.key ?? 'ec-256';
    const keyPem = opts.keyPem ?? this.generateKey(keyAlg);
    const keyFile = this.file(`${id}.key`);
    writeFileSync(keyFile, keyPem);
    this.openssl(['req', '-new', '-key', keyFile, '-subj', opts.subject, '-out', `${id}.csr`]);

    const db = this.file(`${id}.index`);
    writeFileSync(db, '');
    writeFileSync(this.file(`${id}.serial`), (this.#serial++).toString(16).padStart(4, '0') + '\n');
    writeFileSync(
      this.file(`${id}.cnf`),
      [
        '[ca]',
        'default_ca = d',
        '[d]',
        `database = ${db}`,
        `new_certs_dir = ${this.dir}`,
        `serial = ${this.file(`${id}.serial`)}`,
        'policy = p',
        'unique_subject = no',
        'email_in_dn = no',
        '[p]',
        'commonName = optional',
        '[ext]',
        ...(opts.extensions ?? []),
        '',
      ].join('\n'),
    );
    const notBefore = opts.notBefore ?? new Date(Date.now() - HOUR);
    const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * DAY);
    const args = [
      'ca',
      '-batch',
      '-notext',
      '-preserveDN',
      '-config',
      `${id}.cnf`,
      '-in',
      `${id}.csr`,
      '-out',
      `${id}.pem`,
      '-extensions',
      'ext',
      '-md',
      opts.digest ?? 'sha256',
      '-startdate',
      opensslTime(notBefore),
      '-enddate',
      opensslTime(notAfter),
    ];
    if (opts.issuer === undefined) {
      args.push('-selfsign', '-keyfile', keyFile);
    } else {
      const issuerKey = this.file(`${id}.issuer.key`);
      const issuerCert = this.file(`${id}.issuer.pem`);
      writeFileSync(issuerKey, opts.issuer.keyPem);
      writeFileSync(issuerCert, opts.issuer.certPem);
      args.push('-cert', issuerCert, '-keyfile', issuerKey);
    }
    this.openssl(args);
    const certPem = readFileSync(this.file(`${id}.pem`), 'utf8');
    const certDer = new Uint8Array(this.openssl(['x509', '-in', `${id}.pem`, '-outform', 'DER']));
    return { certPem, certDer, keyPem, keyAlg, subject: opts.subject };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CodeSigningChain {
  readonly root: Issued;
  readonly intermediate: Issued;
  readonly leaf: Issued;
  /** leaf, intermediate, root as DER. */
  readonly chainDer: readonly Uint8Array[];
}

/** A root → intermediate → code-signing leaf chain that meets every Notary requirement. */
export function codeSigningChain(
  pki: Pki,
  opts: { leafKey?: KeyAlg; caKey?: KeyAlg; name?: string; leafNotBefore?: Date; leafNotAfter?: Date } = {},
): CodeSigningChain {
  const name = opts.name ?? 'Portcullis Test';
  const caKey = opts.caKey ?? 'ec-384';
  const root = pki.issue({
    subject: `/C=US/ST=WA/O=${name}/CN=${name} Root`,
    key: caKey,
    extensions: EXT.root,
    notBefore: new Date(Date.now() - 2 * DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
  });
  const intermediate = pki.issue({
    subject: `/C=US/ST=WA/O=${name}/CN=${name} Intermediate`,
    key: caKey,
    issuer: root,
    extensions: EXT.intermediate,
    notBefore: new Date(Date.now() - 2 * DAY),
    notAfter: new Date(Date.now() + 1825 * DAY),
  });
  const leaf = pki.issue({
    subject: `/C=US/ST=WA/L=Seattle/O=${name}/CN=${name} Signer`,
    key: opts.leafKey ?? 'rsa-3072',
    issuer: intermediate,
    extensions: EXT.codeSigningLeaf,
    ...(opts.leafNotBefore === undefined ? {} : { notBefore: opts.leafNotBefore }),
    ...(opts.leafNotAfter === undefined ? {} : { notAfter: opts.leafNotAfter }),
  });
  return { root, intermediate, leaf, chainDer: [leaf.certDer, intermediate.certDer, root.certDer] };
}
