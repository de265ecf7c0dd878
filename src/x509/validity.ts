import { PortcullisError } from '../errors/index.js';
import type { Certificate } from './certificate.js';
import { goQuote } from './go-quote.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Go's time.RFC1123Z layout (`Mon, 02 Jan 2006 15:04:05 -0700`), which notation uses for every
 * time in its messages. Certificate times are UTC (`+0000`); `offsetMinutes` renders a time in
 * the offset it was written with (e.g. an authentic signing time of `…+08:00` → 480).
 */
export function formatRfc1123Z(date: Date, offsetMinutes = 0): string {
  const d = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${sign}${pad(Math.trunc(abs / 60))}${pad(abs % 60)}`
  );
}

/** Inclusive at both ends, as Go's `!(t.Before(NotBefore) || t.After(NotAfter))`. */
export function isValidAt(cert: Certificate, at: Date): boolean {
  const t = at.getTime();
  return t >= cert.notBefore.getTime() && t <= cert.notAfter.getTime();
}

/**
 * Why the chain's validity is being checked:
 * - `verification`: no (verified) timestamp, so every certificate must be valid at the
 *   verification time (trust-store-trust-policy.md, authentic timestamp fallback);
 * - `authenticSigningTime`: notary.x509.signingAuthority, every certificate must be valid at the
 *   signed authentic signing time (signing-scheme.md).
 */
export type ValidityReason = 'verification' | 'authenticSigningTime';

/**
 * Throws ERR_CERT_NOT_VALID_AT_TIME for the first certificate (leaf first) that is not valid at
 * `at`, with notation-go's message. `offsetMinutes` is used only to print `at` for the
 * authentic-signing-time message, as notation prints the signed time in its own offset.
 */
export function checkChainValidAt(
  chain: readonly Certificate[],
  at: Date,
  reason: ValidityReason,
  offsetMinutes = 0,
): void {
  for (const cert of chain) {
    const subject = goQuote(cert.subject);
    if (reason === 'authenticSigningTime') {
      if (!isValidAt(cert, at)) {
        throw new PortcullisError(
          'ERR_CERT_NOT_VALID_AT_TIME',
          `certificate ${subject} was not valid when the digital signature was produced at ${goQuote(formatRfc1123Z(at, offsetMinutes))}`,
        );
      }
      continue;
    }
    if (at.getTime() < cert.notBefore.getTime()) {
      throw new PortcullisError(
        'ERR_CERT_NOT_VALID_AT_TIME',
        `verification time is before certificate ${subject} validity period, it will be valid from ${goQuote(formatRfc1123Z(cert.notBefore))}`,
      );
    }
    if (at.getTime() > cert.notAfter.getTime()) {
      throw new PortcullisError(
        'ERR_CERT_NOT_VALID_AT_TIME',
        `verification time is after certificate ${subject} validity period, it was expired at ${goQuote(formatRfc1123Z(cert.notAfter))}`,
      );
    }
  }
}

/**
 * The timestamp interval [genTime − accuracy, genTime + accuracy] must lie within every
 * signing-chain certificate's validity (trust-store-trust-policy.md, timestamp verification;
 * notation-go verifyTimestamp). Throws ERR_TIMESTAMP_OUTSIDE_VALIDITY with notation's message.
 */
export function checkChainCoversInterval(chain: readonly Certificate[], lower: Date, upper: Date): void {
  for (const cert of chain) {
    const subject = goQuote(cert.subject);
    if (lower.getTime() < cert.notBefore.getTime()) {
      throw new PortcullisError(
        'ERR_TIMESTAMP_OUTSIDE_VALIDITY',
        `timestamp can be before certificate ${subject} validity period, it will be valid from ${goQuote(formatRfc1123Z(cert.notBefore))}`,
      );
    }
    if (upper.getTime() > cert.notAfter.getTime()) {
      throw new PortcullisError(
        'ERR_TIMESTAMP_OUTSIDE_VALIDITY',
        `timestamp can be after certificate ${subject} validity period, it was expired at ${goQuote(formatRfc1123Z(cert.notAfter))}`,
      );
    }
  }
}
