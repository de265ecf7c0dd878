import type { CheckName, VerificationAction, VerificationLevelName } from './types.js';

type Actions = Readonly<Record<CheckName, VerificationAction>>;

/**
 * The verification levels of the trust policy spec (specs/trust-store-trust-policy.md,
 * "Signature Verification details"), identical to notation-go's LevelStrict/Permissive/
 * Audit/Skip. Integrity is enforced by every level except skip, which verifies nothing.
 */
export const LEVELS: Readonly<Record<VerificationLevelName, Actions>> = {
  strict: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'enforce',
    expiry: 'enforce',
    revocation: 'enforce',
  },
  permissive: {
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'log',
    expiry: 'log',
    revocation: 'log',
  },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};

export const LEVEL_NAMES: readonly VerificationLevelName[] = ['strict', 'permissive', 'audit', 'skip'];

export function isLevelName(value: string): value is VerificationLevelName {
  return (LEVEL_NAMES as readonly string[]).includes(value);
}

/** The base action table of a level. */
export function levelActions(level: VerificationLevelName): Actions {
  return LEVELS[level];
}
