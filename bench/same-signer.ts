import { X509Certificate } from 'node:crypto';
import { loadTrustPolicy } from '../src/policy/index.js';
import { verifySignature } from '../src/verify/index.js';
import { CertificateCache, parseCertificate } from '../src/x509/certificate.js';
import { Pki, codeSigningChain, type KeyAlg } from '../test/helpers/pki.js';
import { makeArtifact, signArtifact } from '../test/helpers/signed.js';

/**
 * The signature work of issue 18's cold pod (100 images × 2 signatures, one signer), without the
 * registry: 200 distinct JWS signatures of one signer verified through verifySignature with one
 * fresh certificate cache, as the executor does for a cold review. Reports the CPU time
 * (process.cpuUsage, median of rounds, each with a new cache) and how many certificate signature
 * checks (X509Certificate.verify) the 200 verifications made — a count, not a timing.
 * `npx tsx bench/same-signer.ts`.
 */

export interface SameSignerBench {
  readonly chain: string;
  readonly signatures: number;
  /** CPU ms for all signatures, median and range over the rounds. */
  readonly cpuMs: readonly number[];
  readonly certificateChecks: number;
}

export async function benchSameSigner(rounds = 5, signatures = 200): Promise<SameSignerBench[]> {
  const pki = new Pki();
  try {
    const chains: [string, KeyAlg, KeyAlg][] = [
      ['RSA-3072 leaf, P-384 intermediate and root', 'rsa-3072', 'ec-384'],
      ['P-256 leaf, P-256 intermediate and root', 'ec-256', 'ec-256'],
    ];
    const out: SameSignerBench[] = [];
    for (const [name, leafKey, caKey] of chains) {
      const chain = codeSigningChain(pki, { leafKey, caKey, name: 'Same Signer' });
      const statement = loadTrustPolicy(
        JSON.stringify({
          version: '1.0',
          trustPolicies: [
            {
              name: 'pod',
              registryScopes: ['*'],
              signatureVerification: { level: 'strict' },
              trustStores: ['ca:pod'],
              trustedIdentities: ['*'],
            },
          ],
        }),
      ).statements[0]!;
      const root = parseCertificate(chain.root.certDer);
      const trustStores = { get: (type: string, n: string) => (type === 'ca' && n === 'pod' ? [root] : undefined) };
      const inputs = Array.from({ length: signatures }, (_, i) => {
        const artifact = makeArtifact(`pod-${i}`).descriptor;
        const { envelope, mediaType } = signArtifact({ keyPem: chain.leaf.keyPem, chainDer: chain.chainDer, artifact });
        return { signature: `sha256:${i}`, envelopeMediaType: mediaType, envelope, artifact };
      });
      const verify = X509Certificate.prototype.verify;
      let checks = 0;
      X509Certificate.prototype.verify = function (this: X509Certificate, key) {
        checks++;
        return verify.call(this, key);
      };
      const cpuMs: number[] = [];
      let certificateChecks = 0;
      try {
        for (let round = 0; round <= rounds; round++) {
          const cache = new CertificateCache();
          const at = new Date();
          checks = 0;
          const start = process.cpuUsage();
          for (const input of inputs) {
            const r = await verifySignature(input, { statement, trustStores, at, certificateCache: cache });
            if (!r.passed) throw new Error(`bench signature does not verify: ${r.failure?.error.message}`);
          }
          const used = process.cpuUsage(start);
          // Round 0 warms the code up (JIT); it is not counted.
          if (round > 0) cpuMs.push((used.user + used.system) / 1000);
          certificateChecks = checks;
        }
      } finally {
        X509Certificate.prototype.verify = verify;
      }
      out.push({ chain: name, signatures, cpuMs: cpuMs.sort((a, b) => a - b), certificateChecks });
    }
    return out;
  } finally {
    pki.cleanup();
  }
}

export function printSameSigner(results: readonly SameSignerBench[]): void {
  console.log(
    'One signer, 200 signatures (issue 18 pod: 100 images × 2), verifySignature with one fresh certificate cache',
  );
  for (const r of results) {
    const median = r.cpuMs[Math.floor(r.cpuMs.length / 2)] ?? NaN;
    console.log(
      `  ${r.chain.padEnd(44)} CPU ${median.toFixed(1)} ms [${r.cpuMs[0]?.toFixed(1)}–${r.cpuMs.at(-1)?.toFixed(1)}] for ${r.signatures} (${((median * 1000) / r.signatures).toFixed(0)} µs each); certificate signature checks ${r.certificateChecks}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) printSameSigner(await benchSameSigner());
