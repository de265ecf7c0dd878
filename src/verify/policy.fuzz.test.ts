import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzz, fuzzTimeout, jsonMutation, mutateJson } from '../../test/helpers/fuzz.js';
import { codeSigningChain, Pki, type CodeSigningChain } from '../../test/helpers/pki.js';
import { makeArtifact, MemorySignatureSource, signArtifact } from '../../test/helpers/signed.js';
import { isPortcullisError } from '../errors/index.js';
import { loadTrustPolicy, selectStatement } from '../policy/index.js';
import { CertificateCache, parseCertificate } from '../x509/certificate.js';
import { verifyArtifact } from './index.js';

/**
 * Random and mutated trust policy documents. Invariants: validation never crashes (a document is
 * valid or rejected with a PortcullisError) and is deterministic; statement selection on a valid
 * document never crashes; and a signature by a signer the original policy does not trust is
 * never verified under a mutated policy unless that policy — read independently — stopped
 * enforcing authenticity for the image (level skip or audit, or authenticity set to log/skip).
 */

const pki = new Pki();
let signer: CodeSigningChain;
let other: CodeSigningChain;
const artifact = makeArtifact('policy-fuzz');
const source = new MemorySignatureSource();
const REPOSITORY = 'registry.test/app';

beforeAll(() => {
  signer = codeSigningChain(pki, { leafKey: 'ec-256', caKey: 'ec-256', name: 'Signer' });
  other = codeSigningChain(pki, { leafKey: 'ec-256', caKey: 'ec-256', name: 'Other' });
  const signed = signArtifact({
    format: 'jws',
    keyPem: signer.leaf.keyPem,
    chainDer: signer.chainDer,
    artifact: artifact.descriptor,
  });
  source.addSignature(artifact.descriptor, signed.envelope, signed.mediaType);
});
afterAll(() => pki.cleanup());

/** The policy that must deny: strict, trusting only the other CA. */
const BASE = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'exact',
      registryScopes: [REPOSITORY],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:other'],
      trustedIdentities: ['*'],
    },
    {
      name: 'rest',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:other'],
      trustedIdentities: ['x509.subject: CN=Other Signer, O=Other, ST=WA, C=US'],
    },
  ],
};

const level = fc.constantFrom('strict', 'permissive', 'audit', 'skip', 'STRICT', 'lenient', '');
const scope = fc.oneof(
  fc.constantFrom(
    '*',
    REPOSITORY,
    'registry.test/other',
    'registry.test',
    'REGISTRY.TEST/app',
    'registry.test/app:v1',
    '',
  ),
  fc.string({ maxLength: 20 }),
);
const store = fc.oneof(
  fc.constantFrom('ca:other', 'ca:signer', 'signingAuthority:other', 'tsa:other', 'ca:', 'other', 'x509:other'),
  fc.string({ maxLength: 12 }),
);
const identity = fc.oneof(
  fc.constantFrom(
    '*',
    'x509.subject: CN=Other Signer, O=Other, ST=WA, C=US',
    'x509.subject: CN=Signer Signer',
    'x509.subject:',
    'CN=x',
  ),
  fc.string({ maxLength: 30 }),
);
const override = fc.dictionary(
  fc.constantFrom('integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation', 'bogus'),
  fc.constantFrom('enforce', 'log', 'skip', 'ignore'),
  { maxKeys: 3 },
);
const statement = fc.record(
  {
    name: fc.oneof(fc.constantFrom('a', 'b', 'exact', 'rest'), fc.string({ maxLength: 10 })),
    registryScopes: fc.array(scope, { maxLength: 3 }),
    signatureVerification: fc.record(
      { level, override, verifyTimestamp: fc.constantFrom('always', 'afterCertExpiry', 'never') },
      { requiredKeys: ['level'] },
    ),
    trustStores: fc.array(store, { maxLength: 2 }),
    trustedIdentities: fc.array(identity, { maxLength: 2 }),
  },
  { requiredKeys: ['name', 'registryScopes', 'signatureVerification'] },
);
/** Mutations in the document's own vocabulary: a statement's level, override, stores, identities or scopes replaced. */
type FieldMutation = {
  readonly statement: number;
  readonly field: 'level' | 'override' | 'trustStores' | 'trustedIdentities' | 'registryScopes';
  readonly value: unknown;
};
const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  fc.record({ statement: fc.nat(), field: fc.constant('level' as const), value: level }),
  fc.record({ statement: fc.nat(), field: fc.constant('override' as const), value: override }),
  fc.record({
    statement: fc.nat(),
    field: fc.constant('trustStores' as const),
    value: fc.array(store, { maxLength: 2 }),
  }),
  fc.record({
    statement: fc.nat(),
    field: fc.constant('trustedIdentities' as const),
    value: fc.array(identity, { maxLength: 2 }),
  }),
  fc.record({
    statement: fc.nat(),
    field: fc.constant('registryScopes' as const),
    value: fc.array(scope, { maxLength: 2 }),
  }),
);

function applyFields(doc: typeof BASE, mutations: readonly FieldMutation[]): typeof BASE {
  const copy = structuredClone(doc) as any;
  for (const m of mutations) {
    const s = copy.trustPolicies[m.statement % copy.trustPolicies.length];
    if (m.field === 'level') s.signatureVerification.level = m.value;
    else if (m.field === 'override') s.signatureVerification.override = m.value;
    else s[m.field] = m.value;
  }
  return copy;
}

const document = fc.record(
  { version: fc.constantFrom('1.0', '1.1', '2.0', ''), trustPolicies: fc.array(statement, { maxLength: 3 }) },
  { requiredKeys: ['version'] },
);

function load(text: string): ReturnType<typeof loadTrustPolicy> | undefined {
  try {
    return loadTrustPolicy(text);
  } catch (error) {
    expect(isPortcullisError(error), `not a PortcullisError: ${String(error)}`).toBe(true);
    return undefined;
  }
}

/** What the document says about authenticity for the repository, read without Portcullis's code. */
function enforcesAuthenticity(doc: unknown): boolean {
  const statements = (doc as { trustPolicies?: unknown }).trustPolicies;
  if (!Array.isArray(statements)) return true;
  const scopes = (s: any): unknown[] => (Array.isArray(s?.registryScopes) ? s.registryScopes : []);
  const chosen =
    statements.find((s) => scopes(s).includes(REPOSITORY)) ?? statements.find((s) => scopes(s).includes('*'));
  const sv = (chosen as any)?.signatureVerification;
  if (sv?.level === 'skip' || sv?.level === 'audit') return false;
  return sv?.override?.authenticity !== 'log' && sv?.override?.authenticity !== 'skip';
}

describe('trust policy documents, random and mutated', () => {
  it('validate without crashing, deterministically, and select statements without crashing', () => {
    fc.assert(
      fc.property(
        fc.oneof(document, fc.jsonValue({ maxDepth: 3 })),
        fc.array(jsonMutation, { maxLength: 3 }),
        fc.array(scope, { maxLength: 3 }),
        (doc, mutations, repositories) => {
          const text = JSON.stringify(mutateJson(doc, mutations));
          const first = load(text);
          const second = load(text);
          expect(second === undefined).toBe(first === undefined);
          if (first === undefined) return;
          expect(second).toEqual(first);
          for (const repository of repositories) {
            try {
              selectStatement(first, repository);
            } catch (error) {
              expect(isPortcullisError(error), String(error)).toBe(true);
            }
          }
        },
      ),
      fuzz(500),
    );
  });

  it(
    'never admit a signer the original policy rejects, unless the mutation stopped enforcing authenticity',
    async () => {
      const stores = new Map([['ca:other', [parseCertificate(other.root.certDer)]]]);
      const verify = (text: string) =>
        verifyArtifact(
          {
            reference: `${REPOSITORY}@${artifact.descriptor.digest}`,
            repository: REPOSITORY,
            artifact: artifact.descriptor,
          },
          {
            policy: loadTrustPolicy(text),
            trustStores: { get: (type, name) => stores.get(`${type}:${name}`) },
            source,
            at: new Date(),
            certificateCache: new CertificateCache(),
          },
        );
      expect((await verify(JSON.stringify(BASE))).verified).toBe(false);
      let admitted = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fieldMutation, { maxLength: 3 }),
          fc.array(jsonMutation, { maxLength: 2 }),
          async (fields, mutations) => {
            const doc = mutateJson(applyFields(BASE, fields), mutations);
            const text = JSON.stringify(doc);
            if (load(text) === undefined) return;
            let verified = false;
            try {
              verified = (await verify(text)).verified;
            } catch (error) {
              expect(isPortcullisError(error), String(error)).toBe(true);
              return;
            }
            if (verified) {
              admitted++;
              expect(enforcesAuthenticity(doc), `verified under ${text}`).toBe(false);
            }
          },
        ),
        fuzz(300),
      );
      // the property is not vacuous: some mutations do stop enforcing authenticity, and are admitted
      expect(admitted).toBeGreaterThan(0);
    },
    fuzzTimeout(60_000),
  );
});
