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
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { verifySignature } from './signature.js';
import type { TrustStores } from './types.js';

const DAY = 86_400_000;
const artifact = makeArtifact('timestamped').descriptor;

// Signs with a real `openssl ts` countersignature over the primitive signature bytes.
function signTimestamped(
  chain: CodeSigningChain,
  tsa: TestTsa | undefined,
  format: 'jws' | 'cose' = 'jws',
): Uint8Array {
  const certs = chain.chainDer.map((d) => parseCertificate(d));
  const prepared = prepareEnvelope(format, { payload: payloadFor(artifact), signingTime: new Date() }, certs);
  const signature = signPrimitive(prepared.algorithm, createPrivateKey(chain.leaf.keyPem), prepared.signingInput);
  const token = tsa?.timestamp(signature, HASH_OF[prepared.algorithm]);
  return prepared.finish(signature, token);
}

function statement(trustStores: string[], verifyTimestamp = 'always', level = 'strict'): TrustPolicyStatement {
  return loadTrustPolicy(
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        {
          name: 'ts',
          registryScopes: ['*'],
          signatureVerification: { level, verifyTimestamp },
          trustStores,
          trustedIdentities: ['*'],
        },
      ],
    }),
  ).statements[0] as TrustPolicyStatement;
}

describe('authentic timestamp with a real openssl TSA', () => {
  const pki = new Pki();
  let tsa: TestTsa;
  let otherTsa: TestTsa;
  let chain: CodeSigningChain;
  let notYetValid: CodeSigningChain;
  let stores: TrustStores;

  beforeAll(() => {
    tsa = new TestTsa({ pki, intermediate: true, name: 'Good TSA' });
    otherTsa = new TestTsa({ pki, name: 'Other TSA' });
    chain = codeSigningChain(pki, { leafKey: 'ec-256', name: 'TS Signer', leafNotAfter: new Date(Date.now() + DAY) });
    notYetValid = codeSigningChain(pki, {
      leafKey: 'ec-256',
      name: 'Future Signer',
      leafNotBefore: new Date(Date.now() + 3_600_000),
      leafNotAfter: new Date(Date.now() + 2 * DAY),
    });
    const map = new Map<string, Certificate[]>([
      ['ca:signers', [parseCertificate(chain.root.certDer), parseCertificate(notYetValid.root.certDer)]],
      ['tsa:good', [parseCertificate(tsa.rootDer)]],
      ['tsa:other', [parseCertificate(otherTsa.rootDer)]],
    ]);
    stores = { get: (type, name) => map.get(`${type}:${name}`) };
  });
  afterAll(() => pki.cleanup());

  const verify = (envelope: Uint8Array, s: TrustPolicyStatement, at: Date, format: 'jws' | 'cose' = 'jws') =>
    verifySignature(
      {
        signature: 'sha256:t',
        envelopeMediaType: format === 'jws' ? MEDIA_TYPE.jws : MEDIA_TYPE.cose,
        envelope,
        artifact,
      },
      { statement: s, trustStores: stores, at },
    );

  it.each(['jws', 'cose'] as const)(
    'accepts a %s signature timestamped by a trusted TSA, and reports the timestamp',
    async (format) => {
      const r = await verify(
        signTimestamped(chain, tsa, format),
        statement(['ca:signers', 'tsa:good']),
        new Date(),
        format,
      );
      expect(r.passed).toBe(true);
      expect(r.checks.find((c) => c.check === 'authenticTimestamp')?.status).toBe('passed');
      expect(Math.abs((r.details?.timestamp?.genTime.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    },
  );

  it('keeps a timestamped signature valid after the signing certificate expired', async () => {
    const later = new Date(Date.now() + 2 * DAY);
    const envelope = signTimestamped(chain, tsa);
    expect((await verify(envelope, statement(['ca:signers', 'tsa:good']), later)).passed).toBe(true);
    expect((await verify(envelope, statement(['ca:signers', 'tsa:good'], 'afterCertExpiry'), later)).passed).toBe(true);
    // Without a tsa store the timestamp is not consulted and the expired chain fails.
    const noTsa = await verify(envelope, statement(['ca:signers']), later);
    expect(noTsa.failure?.check).toBe('authenticTimestamp');
    expect(noTsa.failure?.error.code).toBe('ERR_CERT_NOT_VALID_AT_TIME');
  });

  it('with afterCertExpiry, an expired certificate makes the timestamp mandatory', async () => {
    const later = new Date(Date.now() + 2 * DAY);
    const r = await verify(
      signTimestamped(chain, undefined),
      statement(['ca:signers', 'tsa:good'], 'afterCertExpiry'),
      later,
    );
    expect(r.failure?.error.code).toBe('ERR_TIMESTAMP_MISSING');
  });

  it('rejects a timestamp from a TSA the policy does not trust', async () => {
    const r = await verify(signTimestamped(chain, otherTsa), statement(['ca:signers', 'tsa:good']), new Date());
    expect(r.failure?.check).toBe('authenticTimestamp');
    expect(r.failure?.error.code).toBe('ERR_TIMESTAMP_UNTRUSTED');
  });

  it('rejects a timestamp that lies before the signing certificate was valid', async () => {
    const r = await verify(
      signTimestamped(notYetValid, tsa),
      statement(['ca:signers', 'tsa:good']),
      new Date(Date.now() + 2 * 3_600_000),
    );
    expect(r.failure?.error.code).toBe('ERR_TIMESTAMP_OUTSIDE_VALIDITY');
    expect(r.failure?.error.message).toContain('timestamp can be before certificate');
  });

  it('rejects a timestamp over other signature bytes (copied from another signature)', async () => {
    const certs = chain.chainDer.map((d) => parseCertificate(d));
    const prepared = prepareEnvelope('jws', { payload: payloadFor(artifact), signingTime: new Date() }, certs);
    const signature = signPrimitive(prepared.algorithm, createPrivateKey(chain.leaf.keyPem), prepared.signingInput);
    const foreignToken = tsa.timestamp(new Uint8Array(signature.length).fill(7), 'sha256');
    const r = await verify(prepared.finish(signature, foreignToken), statement(['ca:signers', 'tsa:good']), new Date());
    expect(r.failure?.error.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(r.failure?.error.message).toContain('mismatched message');
  });

  it('only logs timestamp failures under permissive', async () => {
    const r = await verify(
      signTimestamped(chain, otherTsa),
      statement(['ca:signers', 'tsa:good'], 'always', 'permissive'),
      new Date(),
    );
    expect(r.passed).toBe(true);
    expect(r.checks.find((c) => c.check === 'authenticTimestamp')?.status).toBe('logged');
  });
});
