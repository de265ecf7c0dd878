import { PortcullisError } from '../errors/index.js';
import { bytesEqual, isIssuedBy, type Certificate, type CertificateCache } from '../x509/index.js';

/**
 * Builds the TSA certificate chain from the timestamp signer through the certificates embedded in
 * the token to a trusted certificate: one byte-equal to a trust-store certificate, or one issued
 * by a trust-store certificate (which then ends the chain). Every certificate of the chain must be
 * valid at the timestamp's genTime, not now (Notary trust-store spec: the TSA chain is evaluated
 * at the timestamp time). The Notary §8 timestamping-chain requirements are checked by the caller.
 */

// Bounds keep adversarial tokens (many mutually issuing certificates) cheap to reject.
const MAX_DEPTH = 8;
const MAX_PATHS = 16;

function validAt(cert: Certificate, at: Date): boolean {
  return cert.notBefore.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.getTime();
}

function* candidatePaths(
  chain: readonly Certificate[],
  embedded: readonly Certificate[],
  trusted: readonly Certificate[],
  cache: CertificateCache | undefined,
): Generator<readonly Certificate[]> {
  const current = chain[chain.length - 1] as Certificate;
  const anchor = trusted.find((t) => bytesEqual(t.der, current.der));
  if (anchor !== undefined) {
    yield [...chain.slice(0, -1), anchor];
    return;
  }
  const inChain = (c: Certificate): boolean => chain.some((x) => bytesEqual(x.der, c.der));
  for (const t of trusted) {
    if (!inChain(t) && isIssuedBy(current, t, cache)) yield [...chain, t];
  }
  if (chain.length >= MAX_DEPTH) return;
  for (const c of embedded) {
    if (!inChain(c) && isIssuedBy(current, c, cache)) yield* candidatePaths([...chain, c], embedded, trusted, cache);
  }
}

/**
 * The chain signer → … → trusted certificate, valid at `at`. The cache, when given, remembers
 * which certificate issued which (the signature checks of path building, the same for every
 * token of one TSA); validity at `at` is checked every time.
 */
export function buildTsaChain(
  signer: Certificate,
  embedded: readonly Certificate[],
  trustedRoots: readonly Certificate[],
  at: Date,
  cache?: CertificateCache,
): readonly Certificate[] {
  if (trustedRoots.length === 0) {
    throw new PortcullisError('ERR_TIMESTAMP_UNTRUSTED', 'no trusted TSA root certificates were given');
  }
  let firstInvalid: { chain: readonly Certificate[]; cert: Certificate } | undefined;
  let seen = 0;
  for (const chain of candidatePaths([signer], embedded, trustedRoots, cache)) {
    const bad = chain.find((c) => !validAt(c, at));
    if (bad === undefined) return chain;
    firstInvalid ??= { chain, cert: bad };
    if (++seen >= MAX_PATHS) break;
  }
  if (firstInvalid !== undefined) {
    const { cert } = firstInvalid;
    const when = at.getTime() < cert.notBefore.getTime() ? 'before' : 'after';
    throw new PortcullisError(
      'ERR_TIMESTAMP_INVALID',
      `timestamp time ${at.toISOString()} is ${when} the validity period of TSA certificate "${cert.subject}" ` +
        `(${cert.notBefore.toISOString()} – ${cert.notAfter.toISOString()})`,
    );
  }
  throw new PortcullisError(
    'ERR_TIMESTAMP_UNTRUSTED',
    `the TSA certificate chain of "${signer.subject}" does not lead to a trusted TSA certificate`,
  );
}
