import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { makeArtifact, payloadFor } from '../../test/helpers/signed.js';
import { TestTsa } from '../../test/helpers/tsa.js';
import { prepareEnvelope } from '../envelope/index.js';
import { signPrimitive } from '../envelope/algorithms.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import { loadTrustPolicy } from '../policy/index.js';
import type { TrustPolicyStatement } from '../policy/types.js';
import { HASH_OF } from '../x509/key-spec.js';
import { CertificateCache, parseCertificate, type Certificate } from '../x509/certificate.js';
import { verifySignature } from './signature.js';
import type { SignatureVerification, TrustStores } from './types.js';

// The certificate cache remembers validated chains (x509/chain.ts) for every signature of the
// same signer. Only time-independent work is remembered: these specify that a warm cache never
// changes an answer, whatever time the earlier verifications ran at.

const DAY = 86_400_000;
const artifact = makeArtifact('memo').descriptor;

function sign(chain: CodeSigningChain, tsa?: TestTsa): Uint8Array {
  const certs = chain.chainDer.map((d) => parseCertificate(d));
  const prepared = prepareEnvelope('jws', { payload: payloadFor(artifact), signingTime: new Date() }, certs);
  const signature = signPrimitive(prepared.algorithm, createPrivateKey(chain.leaf.keyPem), prepared.signingInput);
  return prepared.finish(signature, tsa?.timestamp(signature, HASH_OF[prepared.algorithm]));
}

function statement(trustStores: string[]): TrustPolicyStatement {
  return loadTrustPolicy(
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        {
          name: 'memo',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict', verifyTimestamp: 'always' },
          trustStores,
          trustedIdentities: ['*'],
        },
      ],
    }),
  ).statements[0] as TrustPolicyStatement;
}

describe('verification with a warm certificate cache gives the answers of a cold one', () => {
  const pki = new Pki();
  let shortLived: CodeSigningChain;
  let future: CodeSigningChain;
  let tsa: TestTsa;
  let otherTsa: TestTsa;
  let stores: TrustStores;
  beforeAll(() => {
    shortLived = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Short', leafNotAfter: new Date(Date.now() + DAY) });
    future = codeSigningChain(pki, {
      leafKey: 'ec-256',
      name: 'Future',
      leafNotBefore: new Date(Date.now() + 3_600_000),
      leafNotAfter: new Date(Date.now() + 2 * DAY),
    });
    tsa = new TestTsa({ pki, intermediate: true, name: 'Memo TSA' });
    otherTsa = new TestTsa({ pki, intermediate: true, name: 'Other Memo TSA' });
    const map = new Map<string, Certificate[]>([
      ['ca:signers', [parseCertificate(shortLived.root.certDer), parseCertificate(future.root.certDer)]],
      ['tsa:good', [parseCertificate(tsa.rootDer)]],
      ['tsa:other', [parseCertificate(otherTsa.rootDer)]],
    ]);
    stores = { get: (type, name) => map.get(`${type}:${name}`) };
  });
  afterAll(() => pki.cleanup());

  const verify = (envelope: Uint8Array, s: TrustPolicyStatement, at: Date, cache?: CertificateCache) =>
    verifySignature(
      { signature: 'sha256:m', envelopeMediaType: MEDIA_TYPE.jws, envelope, artifact },
      { statement: s, trustStores: stores, at, ...(cache === undefined ? {} : { certificateCache: cache }) },
    );
  const outcome = (r: SignatureVerification) => ({
    passed: r.passed,
    check: r.failure?.check,
    code: r.failure?.error.code,
    message: r.failure?.error.message,
  });

  it('rejects an expired chain at a later time although the cache is warm from an earlier one', async () => {
    const cache = new CertificateCache();
    const envelope = sign(shortLived);
    const now = await verify(envelope, statement(['ca:signers']), new Date(), cache);
    expect(now.passed).toBe(true);
    expect(cache.chains).toBe(1);
    const later = new Date(Date.now() + 2 * DAY);
    const warm = await verify(envelope, statement(['ca:signers']), later, cache);
    expect(warm.failure?.check).toBe('authenticTimestamp');
    expect(warm.failure?.error.code).toBe('ERR_CERT_NOT_VALID_AT_TIME');
    expect(outcome(warm)).toEqual(outcome(await verify(envelope, statement(['ca:signers']), later)));
  });

  it('rejects a not-yet-valid chain at an earlier time although the cache is warm from a later one', async () => {
    const cache = new CertificateCache();
    const envelope = sign(future);
    expect((await verify(envelope, statement(['ca:signers']), new Date(Date.now() + DAY), cache)).passed).toBe(true);
    const early = await verify(envelope, statement(['ca:signers']), new Date(), cache);
    expect(early.failure?.error.code).toBe('ERR_CERT_NOT_VALID_AT_TIME');
    expect(outcome(early)).toEqual(outcome(await verify(envelope, statement(['ca:signers']), new Date())));
  });

  it('still checks which TSA is trusted when the TSA chain was validated before', async () => {
    const cache = new CertificateCache();
    const envelope = sign(shortLived, tsa);
    const later = new Date(Date.now() + 2 * DAY);
    const trusted = await verify(envelope, statement(['ca:signers', 'tsa:good']), later, cache);
    expect(trusted.passed).toBe(true);
    expect(cache.chains).toBe(2); // the signer's chain and the TSA's
    const untrusted = await verify(envelope, statement(['ca:signers', 'tsa:other']), later, cache);
    expect(untrusted.passed).toBe(false);
    expect(untrusted.failure?.check).toBe('authenticTimestamp');
    expect(outcome(untrusted)).toEqual(outcome(await verify(envelope, statement(['ca:signers', 'tsa:other']), later)));
  });

  it('rejects a chain whose leaf another CA issued, after the genuine chain was remembered', async () => {
    const cache = new CertificateCache();
    expect((await verify(sign(shortLived), statement(['ca:signers']), new Date(), cache)).passed).toBe(true);
    // Same names, other keys: a leaf and intermediate of another PKI under the trusted root's DER.
    const impostor = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Short' });
    const spliced: CodeSigningChain = {
      ...impostor,
      chainDer: [impostor.leaf.certDer, shortLived.intermediate.certDer, shortLived.root.certDer],
    };
    const r = await verify(sign(spliced), statement(['ca:signers']), new Date(), cache);
    expect(r.failure?.check).toBe('integrity');
    expect(r.failure?.error.code).toBe('ERR_CHAIN_INVALID');
  });
});
