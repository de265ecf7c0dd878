import { revocationMaterialDir } from '../notation-config/index.js';
import { PortcullisError } from '../errors/index.js';
import type { RevocationChecker } from '../verify/index.js';
import type { CertificateCache } from '../x509/index.js';
import { USER_AGENT } from '../util/index.js';
import type { CliIo } from './io.js';

export type RevocationMode = 'online' | 'offline';

export function revocationMode(mode: string | undefined): RevocationMode {
  const m = mode ?? 'online';
  if (m !== 'online' && m !== 'offline')
    throw new PortcullisError('ERR_INPUT_INVALID', `--revocation must be online or offline, got "${m}"`);
  return m;
}

/**
 * The OCSP/CRL checker of a CLI command, loaded on the first certificate chain that needs it: a
 * self-signed signer (a test key) never pays for the HTTP client and the ASN.1 schemas of
 * revocation. CRLs and OCSP responses the operator put in `<config-dir>/revocation` (crl/, ocsp/)
 * are consulted before any fetch, in both modes; files that cannot be read are reported as
 * warnings, once.
 */
export function cliRevocationChecker(
  mode: RevocationMode,
  cache: CertificateCache,
  configDir: string,
  io: CliIo,
): RevocationChecker {
  let inner: Promise<RevocationChecker> | undefined;
  return {
    check: async (chain, at) => {
      // No certificate names an OCSP responder or a CRL: every one is non-revokable, which is
      // the checker's own answer for such a chain (src/revocation/checker.ts), without loading it.
      if (chain.every((c) => c.ocspUrls.length === 0 && c.crlUrls.length === 0)) {
        const last = chain.length - 1;
        return {
          status: 'nonRevokable',
          certificates: chain.map((c, i) => ({
            status: 'nonRevokable' as const,
            detail: i === last && c.selfIssued ? 'root certificate: not revocation-checked' : 'no OCSP or CRL location',
          })),
        };
      }
      inner ??= import('../revocation/index.js').then(
        async ({ HttpRevocationFetcher, OnlineRevocationChecker, loadRevocationMaterial }) => {
          const material = await loadRevocationMaterial(revocationMaterialDir(configDir));
          for (const problem of material.problems) io.stderr(`warning: revocation material ${problem}\n`);
          return new OnlineRevocationChecker({
            fetcher: new HttpRevocationFetcher({ userAgent: USER_AGENT }),
            mode,
            certificateCache: cache,
            material,
          });
        },
      );
      return (await inner).check(chain, at);
    },
  };
}
