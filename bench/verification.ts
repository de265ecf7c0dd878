import { constants, verify as cryptoVerify } from 'node:crypto';
import { decode, encode } from 'cbor2';
import { parseEnvelope } from '../src/envelope/index.js';
import { loadTrustPolicy } from '../src/policy/index.js';
import { verifySignature } from '../src/verify/index.js';
import { CertificateCache, parseCertificate } from '../src/x509/certificate.js';
import { Pki, codeSigningChain } from '../test/helpers/pki.js';
import { makeArtifact, signArtifact } from '../test/helpers/signed.js';
import { measure, type Measurement } from './measure.js';

export interface VerificationBench {
  readonly format: 'jws' | 'cose';
  readonly full: Measurement;
  readonly raw: Measurement;
}

/**
 * Cost of verifying one signature (integrity, chain, authenticity, timestamp-less validity,
 * expiry) with warm certificate cache, next to the raw signature checks of a cold cache: the
 * envelope signature and the signature of each chain certificate (leaf by intermediate,
 * intermediate by root, root by itself). A warm cache remembers the validated chain, so only the
 * envelope signature is checked again: full verification can cost less than the raw checks.
 */
export async function benchVerification(): Promise<VerificationBench[]> {
  const pki = new Pki();
  try {
    const chain = codeSigningChain(pki, { leafKey: 'rsa-3072', caKey: 'rsa-3072', name: 'Bench' });
    const artifact = makeArtifact('bench').descriptor;
    const policy = loadTrustPolicy(
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
    );
    const statement = policy.statements[0]!;
    const root = parseCertificate(chain.root.certDer);
    const trustStores = {
      get: (type: string, name: string) => (type === 'ca' && name === 'bench' ? [root] : undefined),
    };
    const out: VerificationBench[] = [];
    for (const format of ['jws', 'cose'] as const) {
      const { envelope, mediaType } = signArtifact({
        format,
        keyPem: chain.leaf.keyPem,
        chainDer: chain.chainDer,
        artifact,
      });
      const cache = new CertificateCache();
      const at = new Date();
      const input = { signature: 'sha256:bench', envelopeMediaType: mediaType, envelope, artifact };
      const options = { statement, trustStores, at, certificateCache: cache };
      const check = await verifySignature(input, options);
      if (!check.passed) throw new Error(`bench envelope does not verify: ${check.failure?.error.message}`);
      const full = await measure(`${format} full verification`, async () => {
        await verifySignature(input, options);
      });

      // The unavoidable crypto, on pre-parsed keys.
      const parsed = parseEnvelope(mediaType, envelope);
      const [leaf, inter, rootCert] = parsed.unsigned.certificateChain as [any, any, any];
      const leafKey = leaf.publicKey;
      const signingInput = signingInputOf(format, envelope);
      const raw = await measure(`${format} raw signature checks`, async () => {
        const ok =
          cryptoVerify(
            'sha384',
            signingInput,
            { key: leafKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
            parsed.signature,
          ) &&
          leaf.node.verify(inter.publicKey) &&
          inter.node.verify(rootCert.publicKey) &&
          rootCert.node.verify(rootCert.publicKey);
        if (!ok) throw new Error('raw check failed');
      });
      out.push({ format, full, raw });
    }
    return out;
  } finally {
    pki.cleanup();
  }
}

// What the envelope signature covers: JWS `protected.payload`; COSE the Sig_structure.
function signingInputOf(format: 'jws' | 'cose', envelope: Uint8Array): Uint8Array {
  if (format === 'jws') {
    const jws = JSON.parse(Buffer.from(envelope).toString('utf8')) as { protected: string; payload: string };
    return Buffer.from(`${jws.protected}.${jws.payload}`, 'ascii');
  }
  return coseSigStructure(envelope);
}

function coseSigStructure(envelope: Uint8Array): Uint8Array {
  const tagged = decode(envelope, { preferMap: true }) as { contents: [Uint8Array, unknown, Uint8Array, Uint8Array] };
  const [protectedBytes, , payload] = tagged.contents;
  return encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}
