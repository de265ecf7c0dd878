import { loadTrustPolicy } from '../src/policy/index.js';
import { HttpRevocationFetcher, OnlineRevocationChecker } from '../src/revocation/index.js';
import { verifySignature } from '../src/verify/index.js';
import { CertificateCache, parseCertificate } from '../src/x509/certificate.js';
import { CaDatabase, OcspResponder } from '../test/helpers/ocsp-responder.js';
import { EXT, Pki } from '../test/helpers/pki.js';
import { makeArtifact, signArtifact } from '../test/helpers/signed.js';
import { measure, type Measurement } from './measure.js';

const DAY = 86_400_000;

/**
 * Cost of one strict verification (JWS, RSA-3072 leaf, EC P-384 CAs) including revocation,
 * with the leaf's OCSP answer
 * - cached: the checker already holds a verified answer (no network), and
 * - fresh: a new checker each time, so the answer comes from the local `openssl ocsp` responder
 *   on 127.0.0.1 (an HTTP round trip plus one openssl process per request, the dominant cost).
 */
export async function benchRevocation(): Promise<{ cached: Measurement; fresh: Measurement }> {
  const pki = new Pki();
  let responder: OcspResponder | undefined;
  try {
    const root = pki.issue({
      subject: '/C=US/O=Bench/CN=Bench Root',
      key: 'ec-384',
      extensions: EXT.root,
      notBefore: new Date(Date.now() - DAY),
    });
    const intermediate = pki.issue({
      subject: '/C=US/O=Bench/CN=Bench Intermediate',
      key: 'ec-384',
      issuer: root,
      extensions: EXT.intermediate,
      notBefore: new Date(Date.now() - DAY),
    });
    const db = new CaDatabase(pki, intermediate);
    responder = await OcspResponder.start(db);
    const leaf = pki.issue({
      subject: '/C=US/ST=WA/O=Bench/CN=Bench Signer',
      key: 'rsa-3072',
      issuer: intermediate,
      extensions: [...EXT.codeSigningLeaf, `authorityInfoAccess=OCSP;URI:${responder.url}`],
      notBefore: new Date(Date.now() - DAY),
    });
    db.add(leaf);

    const artifact = makeArtifact('bench-revocation').descriptor;
    const statement = loadTrustPolicy(
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'bench',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:bench'],
            trustedIdentities: ['*'],
          },
        ],
      }),
    ).statements[0]!;
    const rootCert = parseCertificate(root.certDer);
    const trustStores = {
      get: (type: string, name: string) => (type === 'ca' && name === 'bench' ? [rootCert] : undefined),
    };
    const { envelope, mediaType } = signArtifact({
      keyPem: leaf.keyPem,
      chainDer: [leaf.certDer, intermediate.certDer, root.certDer],
      artifact,
    });
    const input = { signature: 'sha256:bench', envelopeMediaType: mediaType, envelope, artifact };
    const certificateCache = new CertificateCache();
    const fetcher = new HttpRevocationFetcher();

    const run = async (revocation: OnlineRevocationChecker): Promise<void> => {
      const result = await verifySignature(input, {
        statement,
        trustStores,
        at: new Date(),
        certificateCache,
        revocation,
      });
      const check = result.checks.find((c) => c.check === 'revocation');
      if (!result.passed || check?.status !== 'passed')
        throw new Error(`bench verification failed: ${result.failure?.error.message ?? check?.status}`);
    };

    const warm = new OnlineRevocationChecker({ fetcher });
    await run(warm);
    const cached = await measure('verification with a cached OCSP answer', () => run(warm));
    const before = responder.requests;
    const fresh = await measure(
      'verification with a fresh OCSP answer (local openssl responder)',
      () => run(new OnlineRevocationChecker({ fetcher })),
      1500,
    );
    if (responder.requests === before) throw new Error('the fresh benchmark made no OCSP request');
    return { cached, fresh };
  } finally {
    await responder?.stop();
    pki.cleanup();
  }
}
