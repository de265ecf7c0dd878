import { CaDatabase } from './ocsp-responder.js';
import { EXT, type Issued, type Pki } from './pki.js';

const DAY = 86_400_000;

export interface CrlChain {
  readonly root: Issued;
  readonly ca: Issued;
  /** The root's database: it knows the CA (its CRL covers the CA certificate). */
  readonly rootDb: CaDatabase;
  /** The CA's database: it knows every leaf `leaf` issues. */
  readonly caDb: CaDatabase;
  /**
   * A code-signing leaf of the CA for `/CN=<cn>`, with `where` (default: the CA's CRL at
   * `<base>/ca.crl`), known to `caDb`.
   */
  leaf(cn: string, where?: string): Issued;
  /** `leaf`'s chain as a signer sends it: leaf, CA, root. */
  chainPem(leaf: Issued): string;
}

/**
 * A root and a CA of organisation `org` whose certificates name their CRLs under `base`
 * (`root.crl`, `ca.crl`): the chain of the revocation tests, where CRLs are handed over as files
 * and nothing need listen at `base`.
 */
export function crlChain(pki: Pki, org: string, base: string): CrlChain {
  const root = pki.issue({
    subject: `/C=US/ST=WA/O=${org}/CN=${org} Root`,
    key: 'ec-256',
    extensions: EXT.root,
    notBefore: new Date(Date.now() - 2 * DAY),
  });
  const rootDb = new CaDatabase(pki, root);
  const ca = pki.issue({
    subject: `/C=US/ST=WA/O=${org}/CN=${org} CA`,
    key: 'ec-256',
    issuer: root,
    extensions: [...EXT.intermediate, `crlDistributionPoints=URI:${base}/root.crl`],
    notBefore: new Date(Date.now() - 2 * DAY),
  });
  rootDb.add(ca);
  const caDb = new CaDatabase(pki, ca);
  return {
    root,
    ca,
    rootDb,
    caDb,
    leaf: (cn, where = `crlDistributionPoints=URI:${base}/ca.crl`) => {
      const issued = pki.issue({
        subject: `/C=US/ST=WA/O=${org}/CN=${cn}`,
        key: 'ec-256',
        issuer: ca,
        extensions: [...EXT.codeSigningLeaf, where],
        notBefore: new Date(Date.now() - DAY),
      });
      caDb.add(issued);
      return issued;
    },
    chainPem: (leaf) => leaf.certPem + ca.certPem + root.certPem,
  };
}
