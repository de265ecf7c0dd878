import { goQuote, goQuoteList } from './go-format.js';
import { isLevelName, levelActions } from './levels.js';
import {
  CHECKS,
  type CheckName,
  type SignatureVerificationDocument,
  type VerificationAction,
  type VerificationLevelName,
  type VerifyTimestamp,
} from './types.js';

export interface ResolvedVerification {
  readonly level: VerificationLevelName;
  readonly customized: boolean;
  readonly actions: Readonly<Record<CheckName, VerificationAction>>;
  readonly verifyTimestamp: VerifyTimestamp;
}

export type VerificationResult =
  { readonly ok: true; readonly value: ResolvedVerification } | { readonly ok: false; readonly message: string };

const ACTIONS: readonly VerificationAction[] = ['enforce', 'log', 'skip'];

function isCheck(value: string): value is CheckName {
  return (CHECKS as readonly string[]).includes(value);
}

function isAction(value: string): value is VerificationAction {
  return (ACTIONS as readonly string[]).includes(value);
}

/**
 * Resolves `signatureVerification` into an action per check (spec "Signature Verification
 * details" and "Custom Verification Level"; notation-go GetVerificationLevel). Overrides start
 * from the base level; integrity can never be overridden, only revocation can be skipped, and
 * a skip level cannot be customised. Overrides are checked in document order. The message
 * is the part after notation's `has invalid signatureVerification: `.
 */
export function resolveVerification(sv: SignatureVerificationDocument): VerificationResult {
  const fail = (message: string): VerificationResult => ({ ok: false, message });
  if (sv.level === '') return fail('signature verification level is empty or missing in the trust policy statement');
  if (!isLevelName(sv.level)) return fail(`invalid signature verification level ${goQuote(sv.level)}`);
  const level = sv.level;
  const actions: Record<CheckName, VerificationAction> = { ...levelActions(level) };
  const overrides = Object.entries(sv.override ?? {});
  if (overrides.length > 0 && level === 'skip') {
    return fail(`signature verification level ${goQuote(level)} can't be used to customize signature verification`);
  }
  for (const [check, action] of overrides) {
    if (!isCheck(check)) {
      return fail(
        `verification type ${goQuote(check)} in custom signature verification is not supported, supported values are ${goQuoteList(CHECKS)}`,
      );
    }
    if (!isAction(action)) {
      return fail(
        `verification action ${goQuote(action)} in custom signature verification is not supported, supported values are ${goQuoteList(ACTIONS)}`,
      );
    }
    if (check === 'integrity')
      return fail(`${goQuote(check)} verification can not be overridden in custom signature verification`);
    if (check !== 'revocation' && action === 'skip')
      return fail(`${goQuote(check)} verification can not be skipped in custom signature verification`);
    actions[check] = action;
  }
  // notation: an empty verifyTimestamp means the default, "always".
  const vt = sv.verifyTimestamp ?? '';
  if (vt !== '' && vt !== 'always' && vt !== 'afterCertExpiry') {
    return fail(`verifyTimestamp must be "always" or "afterCertExpiry", but got ${goQuote(vt)}`);
  }
  return {
    ok: true,
    value: {
      level,
      customized: overrides.length > 0,
      actions: Object.freeze(actions),
      verifyTimestamp: vt === 'afterCertExpiry' ? 'afterCertExpiry' : 'always',
    },
  };
}
