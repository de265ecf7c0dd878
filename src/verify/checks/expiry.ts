import { PortcullisError } from '../../errors/index.js';
import type { VerifiedEnvelope } from '../../envelope/index.js';
import { formatRfc1123Z } from '../../x509/index.js';

/** Expiry: a signature with a signed expiry is expired when the verification time reaches it. */
export function checkExpiry(envelope: VerifiedEnvelope, at: Date): PortcullisError | undefined {
  const expiry = envelope.signed.expiry;
  if (expiry === undefined || at.getTime() < expiry.getTime()) return undefined;
  return new PortcullisError('ERR_SIGNATURE_EXPIRED', `digital signature has expired on "${formatRfc1123Z(expiry)}"`);
}
