import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { MemorySignatureSource, makeArtifact, signArtifact } from '../../test/helpers/signed.js';
import { PortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import { loadTrustPolicy } from '../policy/index.js';
import { CertificateCache, parseCertificate } from '../x509/certificate.js';
import { verifyArtifact, type ArtifactVerification, type SignatureSource } from './artifact.js';

/**
 * A source that lists page by page is read only as far as the verification needs: the next
 * page is asked for only while no signature has passed and the attempt limit is not reached,
 * and the result is the one the whole list gives.
 */

const artifact = makeArtifact('pages');
const policy = loadTrustPolicy(
  JSON.stringify({
    version: '1.0',
    trustPolicies: [
      {
        name: 'test',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:test'],
        trustedIdentities: ['*'],
      },
    ],
  }),
);

/** `memory`'s signatures in pages of `size`; counts the pages asked for; page `failAt` throws. */
function paged(
  memory: MemorySignatureSource,
  size: number,
  failAt?: number,
): SignatureSource & { readonly pagesRead: () => number } {
  let read = 0;
  return {
    pagesRead: () => read,
    listSignatures: () => memory.listSignatures(),
    async *signaturePages() {
      const all = await memory.listSignatures();
      for (let i = 0; i === 0 || i < all.length; i += size) {
        read++;
        if (read === failAt) throw new PortcullisError('ERR_REGISTRY_RESPONSE', `page ${read} is broken`);
        yield all.slice(i, i + size);
      }
    },
    fetchManifest: (d: Descriptor) => memory.fetchManifest(d),
    fetchBlob: (d: Descriptor) => memory.fetchBlob(d),
  };
}

describe('a signature source read page by page', () => {
  const pki = new Pki();
  let good: CodeSigningChain;
  let stranger: CodeSigningChain;
  const at = new Date();

  beforeAll(() => {
    good = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Good' });
    stranger = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Stranger' });
  });
  afterAll(() => pki.cleanup());

  function source(order: readonly ('good' | 'stranger')[]): MemorySignatureSource {
    const memory = new MemorySignatureSource();
    for (const who of order) {
      const chain = who === 'good' ? good : stranger;
      const signed = signArtifact({
        keyPem: chain.leaf.keyPem,
        chainDer: chain.chainDer,
        artifact: artifact.descriptor,
      });
      memory.addSignature(artifact.descriptor, signed.envelope, signed.mediaType);
    }
    return memory;
  }

  function verify(src: SignatureSource, max?: number): Promise<ArtifactVerification> {
    return verifyArtifact(
      {
        reference: `registry.test/app@${artifact.descriptor.digest}`,
        repository: 'registry.test/app',
        artifact: artifact.descriptor,
      },
      {
        policy,
        trustStores: {
          get: (type, name) => (`${type}:${name}` === 'ca:test' ? [parseCertificate(good.root.certDer)] : undefined),
        },
        source: src,
        at,
        certificateCache: new CertificateCache(),
        ...(max === undefined ? {} : { maxSignatureAttempts: max }),
      },
    );
  }

  /** What must not differ between the paged and the whole reading. */
  const gist = (r: ArtifactVerification): unknown => ({
    verified: r.verified,
    signature: r.signature,
    failedCheck: r.failedCheck,
    code: r.error?.code ?? null,
    message: r.error?.message ?? null,
    tried: r.signatures.map((s) => s.signature),
  });

  it('stops at the first page when a signature on it passes; a broken later page is never asked for', async () => {
    const memory = source(['stranger', 'good', 'stranger', 'stranger', 'stranger']);
    const src = paged(memory, 2, 2);
    const result = await verify(src);
    expect(result.verified).toBe(true);
    expect(src.pagesRead()).toBe(1);
    expect(gist(result)).toEqual(gist(await verify(memory)));
  });

  it('reads on to the last page when the signature that passes is there', async () => {
    const memory = source(['stranger', 'stranger', 'stranger', 'stranger', 'good']);
    const src = paged(memory, 2);
    const result = await verify(src);
    expect(result.verified).toBe(true);
    expect(src.pagesRead()).toBe(3);
    expect(gist(result)).toEqual(gist(await verify(memory)));
  });

  it('finds no signature when every page is empty, as with an empty list', async () => {
    const memory = source([]);
    const src = paged(memory, 2);
    const result = await verify(src);
    expect(result.error?.code).toBe('ERR_NO_SIGNATURE');
    expect(gist(result)).toEqual(gist(await verify(memory)));
  });

  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [6, 3],
  ])('counts the attempt limit (%i) across pages, reading %i pages, as the whole list does', async (max, pages) => {
    const memory = source(['stranger', 'stranger', 'stranger', 'stranger', 'stranger']);
    const src = paged(memory, 2);
    const result = await verify(src, max);
    expect(src.pagesRead()).toBe(pages);
    expect(result.error?.code).toBe(max < 5 ? 'ERR_SIGNATURE_LIMIT' : 'ERR_CHAIN_UNTRUSTED');
    expect(gist(result)).toEqual(gist(await verify(memory, max)));
  });

  it('fails as the source fails when a page it needs is broken (undecided, not rejected)', async () => {
    const src = paged(source(['stranger', 'stranger', 'good']), 2, 2);
    await expect(verify(src)).rejects.toMatchObject({ code: 'ERR_REGISTRY_RESPONSE' });
  });
});
