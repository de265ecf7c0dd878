import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, codeSigningChain, type CodeSigningChain, type KeyAlg } from '../../test/helpers/pki.js';
import { MemorySignatureSource, makeArtifact, signArtifact } from '../../test/helpers/signed.js';
import { loadTrustPolicy } from '../policy/index.js';
import type { TrustStoreType } from '../policy/types.js';
import { CertificateCache, parseCertificate, type Certificate } from '../x509/certificate.js';
import { verifyArtifact, type ArtifactVerification } from './artifact.js';
import type { RevocationChecker, TrustStores } from './types.js';

const artifact = makeArtifact('workflow');

function policy(statement: Record<string, unknown>) {
  return loadTrustPolicy(
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        {
          name: 'test',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:test'],
          trustedIdentities: ['*'],
          ...statement,
        },
      ],
    }),
  );
}

function stores(entries: Record<string, readonly Uint8Array[]>): TrustStores {
  const map = new Map<string, Certificate[]>(
    Object.entries(entries).map(([k, ders]) => [k, ders.map((d) => parseCertificate(d))]),
  );
  return { get: (type: TrustStoreType, name: string) => map.get(`${type}:${name}`) };
}

async function verify(
  source: MemorySignatureSource,
  opts: {
    statement?: Record<string, unknown>;
    trust: Record<string, readonly Uint8Array[]>;
    at?: Date;
    revocation?: RevocationChecker;
    max?: number;
  },
): Promise<ArtifactVerification> {
  return verifyArtifact(
    {
      reference: 'registry.test/app@' + artifact.descriptor.digest,
      repository: 'registry.test/app',
      artifact: artifact.descriptor,
    },
    {
      policy: policy(opts.statement ?? {}),
      trustStores: stores(opts.trust),
      source,
      at: opts.at ?? new Date(),
      certificateCache: new CertificateCache(),
      ...(opts.revocation === undefined ? {} : { revocation: opts.revocation }),
      ...(opts.max === undefined ? {} : { maxSignatureAttempts: opts.max }),
    },
  );
}

function statusOf(result: ArtifactVerification, index = 0): Record<string, string> {
  return Object.fromEntries((result.signatures[index]?.checks ?? []).map((c) => [c.check, c.status]));
}

describe('artifact verification workflow', () => {
  const pki = new Pki();
  const chains = new Map<KeyAlg, CodeSigningChain>();
  let main: CodeSigningChain;
  let other: CodeSigningChain;

  beforeAll(() => {
    for (const alg of ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-256', 'ec-384', 'ec-521'] as const)
      chains.set(alg, codeSigningChain(pki, { leafKey: alg, name: `Chain ${alg}` }));
    main = chains.get('ec-256') as CodeSigningChain;
    other = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Other' });
  });
  afterAll(() => pki.cleanup());

  const sign = (chain: CodeSigningChain, extra: Partial<Parameters<typeof signArtifact>[0]> = {}) =>
    signArtifact({ keyPem: chain.leaf.keyPem, chainDer: chain.chainDer, artifact: artifact.descriptor, ...extra });

  describe('with a chain the policy trusts', () => {
    it.each(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-256', 'ec-384', 'ec-521'] as const)(
      'verifies %s leaf signatures in JWS and COSE',
      async (alg) => {
        const chain = chains.get(alg) as CodeSigningChain;
        for (const format of ['jws', 'cose'] as const) {
          const source = new MemorySignatureSource();
          const { envelope, mediaType } = sign(chain, { format });
          const sig = source.addSignature(artifact.descriptor, envelope, mediaType);
          const result = await verify(source, { trust: { 'ca:test': [chain.root.certDer] } });
          expect(result.verified).toBe(true);
          expect(result.signature).toBe(sig.digest);
          expect(statusOf(result)).toEqual({
            integrity: 'passed',
            authenticity: 'passed',
            authenticTimestamp: 'passed',
            expiry: 'passed',
            revocation: 'skipped',
          });
        }
      },
    );

    it('accepts the legacy signature manifest shape (config media type)', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main);
      source.addSignature(artifact.descriptor, envelope, mediaType, 'legacy');
      expect((await verify(source, { trust: { 'ca:test': [main.root.certDer] } })).verified).toBe(true);
    });

    it('trusts a pinned intermediate as well as the root', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main);
      source.addSignature(artifact.descriptor, envelope, mediaType);
      expect((await verify(source, { trust: { 'ca:test': [main.intermediate.certDer] } })).verified).toBe(true);
    });

    it('matches a trusted identity on the leaf subject', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main);
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const ok = await verify(source, {
        trust: { 'ca:test': [main.root.certDer] },
        statement: { trustedIdentities: ['x509.subject:C=US,ST=WA,O=Chain ec-256'] },
      });
      expect(ok.verified).toBe(true);
      const no = await verify(source, {
        trust: { 'ca:test': [main.root.certDer] },
        statement: { trustedIdentities: ['x509.subject:C=US,ST=WA,O=Someone Else'] },
      });
      expect(no).toMatchObject({ verified: false, failedCheck: 'authenticity' });
      expect(no.error?.code).toBe('ERR_IDENTITY_MISMATCH');
    });
  });

  describe('signing schemes', () => {
    it('verifies notary.x509.signingAuthority against a signingAuthority store, at the authentic signing time', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main, { scheme: 'notary.x509.signingAuthority', format: 'cose' });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, {
        trust: { 'signingAuthority:sa': [main.root.certDer] },
        statement: { trustStores: ['signingAuthority:sa'] },
      });
      expect(result.verified).toBe(true);
    });

    it('does not let a ca store vouch for a signing-authority signature', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main, { scheme: 'notary.x509.signingAuthority' });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: false, failedCheck: 'authenticity' });
      expect(result.error?.code).toBe('ERR_TRUSTSTORE_EMPTY_FOR_SCHEME');
    });

    it('rejects a signing-authority signature whose authentic signing time lies outside the chain validity', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main, {
        scheme: 'notary.x509.signingAuthority',
        signingTime: new Date('2001-01-01T00:00:00Z'),
      });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, {
        trust: { 'signingAuthority:sa': [main.root.certDer] },
        statement: { trustStores: ['signingAuthority:sa'] },
      });
      expect(result).toMatchObject({ verified: false, failedCheck: 'authenticTimestamp' });
      expect(result.error?.code).toBe('ERR_CERT_NOT_VALID_AT_TIME');
      expect(result.error?.message).toContain('was not valid when the digital signature was produced at');
    });
  });

  describe('verification levels', () => {
    const untrusted = async (level: string, override?: Record<string, string>) => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(other);
      source.addSignature(artifact.descriptor, envelope, mediaType);
      return verify(source, {
        trust: { 'ca:test': [main.root.certDer] },
        statement: { signatureVerification: { level, ...(override === undefined ? {} : { override }) } },
      });
    };

    it('strict and permissive enforce authenticity', async () => {
      for (const level of ['strict', 'permissive']) {
        const result = await untrusted(level);
        expect(result).toMatchObject({ verified: false, failedCheck: 'authenticity', signature: null });
        expect(result.error?.code).toBe('ERR_CHAIN_UNTRUSTED');
        expect(statusOf(result)).toMatchObject({ integrity: 'passed', authenticity: 'failed' });
      }
    });

    it('audit logs an authenticity failure and passes with a warning', async () => {
      const result = await untrusted('audit');
      expect(result.verified).toBe(true);
      expect(statusOf(result).authenticity).toBe('logged');
      expect(result.warnings).toEqual([
        { check: 'authenticity', message: expect.stringContaining('authenticity was set to "log"') },
      ]);
    });

    it('an override to log turns strict authenticity into a warning', async () => {
      const result = await untrusted('strict', { authenticity: 'log' });
      expect(result.verified).toBe(true);
      expect(result.warnings.map((w) => w.check)).toEqual(['authenticity']);
    });

    it('integrity is enforced at every level but skip', async () => {
      for (const level of ['strict', 'permissive', 'audit']) {
        const source = new MemorySignatureSource();
        const { envelope, mediaType } = sign(main);
        const tampered = Uint8Array.from(envelope);
        tampered[tampered.length - 20] ^= 1;
        source.addSignature(artifact.descriptor, tampered, mediaType);
        const result = await verify(source, {
          trust: { 'ca:test': [main.root.certDer] },
          statement: { signatureVerification: { level } },
        });
        expect(result).toMatchObject({ verified: false, failedCheck: 'integrity' });
      }
    });

    it('skip admits an unsigned artifact without looking for signatures', async () => {
      const source = new MemorySignatureSource();
      const result = await verifyArtifact(
        { reference: 'x', repository: 'registry.test/app', artifact: artifact.descriptor },
        {
          policy: policy({
            signatureVerification: { level: 'skip' },
            trustStores: undefined,
            trustedIdentities: undefined,
          }),
          trustStores: stores({}),
          source,
          at: new Date(),
        },
      );
      expect(result).toMatchObject({ verified: true, skipped: true, signatures: [] });
      expect(source.fetches).toBe(0);
    });
  });

  describe('expiry and certificate validity', () => {
    it('rejects an expired signature under strict and logs it under permissive', async () => {
      const source = new MemorySignatureSource();
      const signingTime = new Date(Date.now() - 3_600_000);
      const { envelope, mediaType } = sign(main, { signingTime, expiry: new Date(signingTime.getTime() + 60_000) });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const strict = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(strict).toMatchObject({ verified: false, failedCheck: 'expiry' });
      expect(strict.error?.code).toBe('ERR_SIGNATURE_EXPIRED');
      expect(strict.error?.message).toMatch(
        /^digital signature has expired on "\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000"/,
      );
      const permissive = await verify(source, {
        trust: { 'ca:test': [main.root.certDer] },
        statement: { signatureVerification: { level: 'permissive' } },
      });
      expect(permissive.verified).toBe(true);
      expect(statusOf(permissive).expiry).toBe('logged');
    });

    it('treats the expiry instant itself as expired', async () => {
      const source = new MemorySignatureSource();
      const expiry = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
      const { envelope, mediaType } = sign(main, { expiry });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      expect(
        (await verify(source, { trust: { 'ca:test': [main.root.certDer] }, at: new Date(expiry.getTime() - 1) }))
          .verified,
      ).toBe(true);
      expect((await verify(source, { trust: { 'ca:test': [main.root.certDer] }, at: expiry })).failedCheck).toBe(
        'expiry',
      );
    });

    it('fails authenticTimestamp when a chain certificate is not valid at verification time and there is no tsa store', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main);
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const later = new Date(Date.now() + 4000 * 86_400_000);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] }, at: later });
      expect(result).toMatchObject({ verified: false, failedCheck: 'authenticTimestamp' });
      expect(result.error?.message).toContain('verification time is after certificate');
    });

    it('makes a timestamp mandatory once the policy lists a tsa store', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main);
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, {
        trust: { 'ca:test': [main.root.certDer], 'tsa:ts': [other.root.certDer] },
        statement: { trustStores: ['ca:test', 'tsa:ts'] },
      });
      expect(result).toMatchObject({ verified: false, failedCheck: 'authenticTimestamp' });
      expect(result.error?.code).toBe('ERR_TIMESTAMP_MISSING');
    });

    it('with verifyTimestamp afterCertExpiry, an unexpired chain needs no timestamp', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main);
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, {
        trust: { 'ca:test': [main.root.certDer], 'tsa:ts': [other.root.certDer] },
        statement: {
          trustStores: ['ca:test', 'tsa:ts'],
          signatureVerification: { level: 'strict', verifyTimestamp: 'afterCertExpiry' },
        },
      });
      expect(result.verified).toBe(true);
    });
  });

  describe('integrity beyond the envelope', () => {
    it('rejects a signature over a different artifact (content descriptor mismatch)', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main, { artifact: makeArtifact('something else').descriptor });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: false, failedCheck: 'integrity' });
      expect(result.error?.code).toBe('ERR_PAYLOAD_MISMATCH');
    });

    // The spec requires media type, digest and size to match; the right digest alone is not enough.
    it.each([
      ['another media type', { mediaType: 'application/vnd.oci.image.index.v1+json' }],
      ['another size', { size: 999 }],
    ])('rejects a payload naming the right digest with %s', async (_, change) => {
      const source = new MemorySignatureSource();
      const payload = new TextEncoder().encode(
        JSON.stringify({ targetArtifact: { ...artifact.descriptor, ...change } }),
      );
      const { envelope, mediaType } = sign(main, { payloadOverride: payload });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: false, failedCheck: 'integrity' });
      expect(result.error?.code).toBe('ERR_PAYLOAD_MISMATCH');
    });

    // Go's encoding/json (notation's reader) matches member names case-insensitively and lets the
    // last one win: a second spelling must never make two readers see two different artifacts.
    it.each([
      [
        'a "Digest" beside "digest"',
        (d: Record<string, unknown>) => ({ targetArtifact: { ...d, Digest: `sha256:${'0'.repeat(64)}` } }),
      ],
      [
        'a second "TargetArtifact"',
        (d: Record<string, unknown>) => ({ targetArtifact: d, TargetArtifact: { ...d, size: 1 } }),
      ],
      [
        '"Annotations" beside "annotations"',
        (d: Record<string, unknown>) => ({
          targetArtifact: { ...d, annotations: { a: 'b' }, Annotations: { a: 'c' } },
        }),
      ],
      [
        '"dige\u017ft" (with a long s, which Go folds to "s") beside "digest"',
        (d: Record<string, unknown>) => ({ targetArtifact: { ...d, 'dige\u017ft': `sha256:${'0'.repeat(64)}` } }),
      ],
      ['"SIZE" beside "size"', (d: Record<string, unknown>) => ({ targetArtifact: { ...d, SIZE: 999 } })],
    ])('rejects a signed payload with %s (ERR_PAYLOAD_INVALID)', async (_, shape) => {
      const source = new MemorySignatureSource();
      const d = {
        mediaType: artifact.descriptor.mediaType,
        digest: artifact.descriptor.digest,
        size: artifact.descriptor.size,
      };
      const { envelope, mediaType } = sign(main, {
        payloadOverride: new TextEncoder().encode(JSON.stringify(shape(d))),
      });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: false, failedCheck: 'integrity' });
      expect(result.error?.code).toBe('ERR_PAYLOAD_INVALID');
    });

    it('rejects a signature that requires a verification plugin', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main, {
        extendedAttributes: [{ key: 'io.cncf.notary.verificationPlugin', value: 'plugin-name', critical: true }],
      });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result.error?.code).toBe('ERR_PLUGIN_REQUIRED');
    });

    it('rejects an unknown critical extended attribute (the spec rule notation-go skips)', async () => {
      const source = new MemorySignatureSource();
      const { envelope, mediaType } = sign(main, {
        extendedAttributes: [{ key: 'acme.policy', value: 'x', critical: true }],
      });
      source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: false, failedCheck: 'integrity' });
      expect(result.error?.code).toBe('ERR_ENVELOPE_CRITICAL_UNKNOWN');
      // ...while a non-critical one is fine
      const ok = new MemorySignatureSource();
      const signed = sign(main, { extendedAttributes: [{ key: 'acme.note', value: 'x', critical: false }] });
      ok.addSignature(artifact.descriptor, signed.envelope, signed.mediaType);
      expect((await verify(ok, { trust: { 'ca:test': [main.root.certDer] } })).verified).toBe(true);
    });

    it('treats a malformed signature manifest as that signature failing integrity and moves on', async () => {
      const source = new MemorySignatureSource();
      source.addRawManifest(
        new TextEncoder().encode(
          '{"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.notary.signature","layers":[]}',
        ),
      );
      const { envelope, mediaType } = sign(main);
      const good = source.addSignature(artifact.descriptor, envelope, mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result.verified).toBe(true);
      expect(result.signature).toBe(good.digest);
      expect(result.signatures[0]?.failure?.error.code).toBe('ERR_SIGNATURE_MANIFEST_INVALID');
    });
  });

  describe('several signatures', () => {
    it('the first signature that passes wins', async () => {
      const source = new MemorySignatureSource();
      const bad = sign(other);
      source.addSignature(artifact.descriptor, bad.envelope, bad.mediaType);
      const good = sign(main);
      const goodDescriptor = source.addSignature(artifact.descriptor, good.envelope, good.mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: true, signature: goodDescriptor.digest });
      expect(result.signatures.map((s) => s.passed)).toEqual([false, true]);
    });

    it('reports the failure that came closest to passing when all fail', async () => {
      const source = new MemorySignatureSource();
      const broken = sign(main);
      const tampered = Uint8Array.from(broken.envelope);
      tampered[tampered.length - 20] ^= 1;
      source.addSignature(artifact.descriptor, tampered, broken.mediaType);
      const untrusted = sign(other);
      source.addSignature(artifact.descriptor, untrusted.envelope, untrusted.mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: false, failedCheck: 'authenticity' });
    });

    it('stops after maxSignatureAttempts failures', async () => {
      const source = new MemorySignatureSource();
      for (let i = 0; i < 3; i++) {
        const s = sign(other);
        source.addSignature(artifact.descriptor, s.envelope, s.mediaType);
      }
      const good = sign(main);
      source.addSignature(artifact.descriptor, good.envelope, good.mediaType);
      const result = await verify(source, { trust: { 'ca:test': [main.root.certDer] }, max: 3 });
      expect(result.verified).toBe(false);
      expect(result.error?.code).toBe('ERR_SIGNATURE_LIMIT');
      expect(result.signatures).toHaveLength(3);
      expect((await verify(source, { trust: { 'ca:test': [main.root.certDer] }, max: 4 })).verified).toBe(true);
    });

    it('fails with ERR_NO_SIGNATURE when there is none', async () => {
      const result = await verify(new MemorySignatureSource(), { trust: { 'ca:test': [main.root.certDer] } });
      expect(result).toMatchObject({ verified: false, failedCheck: null });
      expect(result.error?.code).toBe('ERR_NO_SIGNATURE');
    });
  });

  describe('revocation (through the injected checker)', () => {
    const checker = (status: 'good' | 'revoked' | 'unknown'): RevocationChecker => ({
      check: async (chain) => ({
        status,
        certificates: chain.map((_, i) =>
          i === 0
            ? {
                status,
                ...(status === 'revoked'
                  ? { revokedAt: new Date('2024-01-01T00:00:00Z'), reason: 'keyCompromise' }
                  : {}),
              }
            : { status: 'good' as const },
        ),
      }),
    });
    const signed = () => {
      const source = new MemorySignatureSource();
      const s = sign(main);
      source.addSignature(artifact.descriptor, s.envelope, s.mediaType);
      return source;
    };

    it('passes a good chain and reports revocation passed', async () => {
      const result = await verify(signed(), { trust: { 'ca:test': [main.root.certDer] }, revocation: checker('good') });
      expect(statusOf(result).revocation).toBe('passed');
    });

    it('rejects a revoked chain under strict with when and why', async () => {
      const result = await verify(signed(), {
        trust: { 'ca:test': [main.root.certDer] },
        revocation: checker('revoked'),
      });
      expect(result).toMatchObject({ verified: false, failedCheck: 'revocation' });
      expect(result.error?.code).toBe('ERR_CERT_REVOKED');
      expect(result.error?.message).toContain('keyCompromise');
    });

    it('logs an unknown status under permissive', async () => {
      const result = await verify(signed(), {
        trust: { 'ca:test': [main.root.certDer] },
        revocation: checker('unknown'),
        statement: { signatureVerification: { level: 'permissive' } },
      });
      expect(result.verified).toBe(true);
      expect(statusOf(result).revocation).toBe('logged');
      expect(result.warnings[0]?.message).toContain('revocation status is unknown');
    });

    it('does not call the checker when revocation is overridden to skip', async () => {
      let called = false;
      const spy: RevocationChecker = { check: async () => ((called = true), { status: 'revoked', certificates: [] }) };
      const result = await verify(signed(), {
        trust: { 'ca:test': [main.root.certDer] },
        revocation: spy,
        statement: { signatureVerification: { level: 'strict', override: { revocation: 'skip' } } },
      });
      expect(result.verified).toBe(true);
      expect(called).toBe(false);
      expect(statusOf(result).revocation).toBe('skipped');
    });
  });

  it('a store the policy names but that does not exist is a configuration error, not a verdict', async () => {
    const source = new MemorySignatureSource();
    const s = sign(main);
    source.addSignature(artifact.descriptor, s.envelope, s.mediaType);
    await expect(verify(source, { trust: {} })).rejects.toMatchObject({ code: 'ERR_TRUSTSTORE_NOT_FOUND' });
  });
});
