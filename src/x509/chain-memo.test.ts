import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXT, Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { expectFailure } from '../../test/helpers/errors.js';
import { CertificateCache, isIssuedBy, type Certificate } from './certificate.js';
import { validateCertificateChain } from './chain.js';

/** Counts the certificate signature checks made on these certificates. */
function countVerifies(certs: readonly Certificate[]): { count: () => number; restore: () => void } {
  const spies = certs.map((c) => vi.spyOn(c.node, 'verify'));
  return {
    count: () => spies.reduce((n, s) => n + s.mock.calls.length, 0),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

describe('CertificateCache remembers validated chains (the same signer in every signature)', () => {
  const pki = new Pki();
  afterAll(() => pki.cleanup());
  let main: CodeSigningChain;
  beforeAll(() => {
    main = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Memo' });
  });
  const chainIn = (cache: CertificateCache, ders: readonly Uint8Array[]): Certificate[] =>
    ders.map((der) => cache.parse(der));

  it('checks a chain once: the same DER again costs no certificate signature check', () => {
    const cache = new CertificateCache();
    const chain = chainIn(cache, main.chainDer);
    const verifies = countVerifies(chain);
    try {
      validateCertificateChain(chain, 'codeSigning', cache);
      const first = verifies.count();
      expect(first).toBeGreaterThanOrEqual(3);
      validateCertificateChain(chain, 'codeSigning', cache);
      validateCertificateChain(chainIn(cache, main.chainDer), 'codeSigning', cache);
      expect(verifies.count()).toBe(first);
      expect(cache.chains).toBe(1);
    } finally {
      verifies.restore();
    }
  });

  it('checks again without a cache, and for another purpose (the key names it)', () => {
    const cache = new CertificateCache();
    const chain = chainIn(cache, main.chainDer);
    validateCertificateChain(chain, 'codeSigning', cache);
    const verifies = countVerifies(chain);
    try {
      validateCertificateChain(chain, 'codeSigning');
      const uncached = verifies.count();
      expect(uncached).toBeGreaterThanOrEqual(3);
      // A code-signing leaf is no time-stamping leaf: the remembered code-signing answer must not serve.
      expectFailure(() => validateCertificateChain(chain, 'timestamping', cache), 'ERR_CERT_REQUIREMENTS');
      expect(verifies.count()).toBeGreaterThan(uncached);
    } finally {
      verifies.restore();
    }
  });

  it('misses on different bytes: a look-alike leaf from another CA is still rejected', () => {
    const cache = new CertificateCache();
    validateCertificateChain(chainIn(cache, main.chainDer), 'codeSigning', cache);
    const other = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Memo' }); // same names, other keys
    const forged = chainIn(cache, [other.leaf.certDer, main.intermediate.certDer, main.root.certDer]);
    expect(forged[0]?.subject).toBe(cache.parse(main.leaf.certDer).subject);
    expectFailure(
      () => validateCertificateChain(forged, 'codeSigning', cache),
      'ERR_CHAIN_INVALID',
      'is not issued by',
    );
    // …every time: a failure is not remembered.
    expectFailure(
      () => validateCertificateChain(forged, 'codeSigning', cache),
      'ERR_CHAIN_INVALID',
      'is not issued by',
    );
    expect(cache.chains).toBe(1);
  });

  it('remembers a chain only after it passed', () => {
    const cache = new CertificateCache();
    const leafOnly = chainIn(cache, [main.leaf.certDer]);
    expectFailure(() => validateCertificateChain(leafOnly, 'codeSigning', cache), 'ERR_CHAIN_INVALID');
    expectFailure(() => validateCertificateChain(leafOnly, 'codeSigning', cache), 'ERR_CHAIN_INVALID');
    expect(cache.chains).toBe(0);
  });

  it('is bounded: the least recently used chain goes first', () => {
    const cache = new CertificateCache(16, 2);
    const signers = [0, 1, 2].map((i) =>
      pki.issue({
        subject: `/CN=memo signer ${i}`,
        key: 'ec-256',
        issuer: main.intermediate,
        extensions: EXT.codeSigningLeaf,
      }),
    );
    for (const s of signers) {
      validateCertificateChain(
        chainIn(cache, [s.certDer, main.intermediate.certDer, main.root.certDer]),
        'codeSigning',
        cache,
      );
    }
    expect(cache.chains).toBe(2);
    const first = chainIn(cache, [signers[0]!.certDer, main.intermediate.certDer, main.root.certDer]);
    const verifies = countVerifies(first);
    try {
      validateCertificateChain(first, 'codeSigning', cache);
      expect(verifies.count()).toBeGreaterThan(0); // evicted, so checked again
    } finally {
      verifies.restore();
    }
  });
});

describe('CertificateCache remembers which certificate issued which (TSA path building)', () => {
  const pki = new Pki();
  afterAll(() => pki.cleanup());

  it('answers a pair again without a signature check, and checks another pair', () => {
    const main = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Issued' });
    const cache = new CertificateCache();
    const [leaf, intermediate, root] = main.chainDer.map((d) => cache.parse(d)) as [
      Certificate,
      Certificate,
      Certificate,
    ];
    const verifies = countVerifies([leaf, intermediate, root]);
    try {
      expect(isIssuedBy(leaf, intermediate, cache)).toBe(true);
      expect(isIssuedBy(leaf, intermediate, cache)).toBe(true);
      expect(verifies.count()).toBe(1);
      expect(isIssuedBy(intermediate, root, cache)).toBe(true);
      expect(verifies.count()).toBe(2);
    } finally {
      verifies.restore();
    }
  });

  it('remembers a "no" as a "no": a same-named CA with another key never issued the leaf', () => {
    const main = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Twin' });
    const twin = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Twin' });
    const cache = new CertificateCache();
    const leaf = cache.parse(main.leaf.certDer);
    const impostor = cache.parse(twin.intermediate.certDer);
    expect(impostor.subject).toBe(cache.parse(main.intermediate.certDer).subject);
    expect(isIssuedBy(leaf, impostor, cache)).toBe(false);
    expect(isIssuedBy(leaf, impostor, cache)).toBe(false);
    expect(isIssuedBy(leaf, cache.parse(main.intermediate.certDer), cache)).toBe(true);
    expect(isIssuedBy(leaf, impostor)).toBe(false);
  });
});
