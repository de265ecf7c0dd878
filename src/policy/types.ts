/** The five verification checks of the Notary trust policy, in evaluation order. */
export const CHECKS = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'] as const;
export type CheckName = (typeof CHECKS)[number];

export type VerificationAction = 'enforce' | 'log' | 'skip';
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';
export type VerifyTimestamp = 'always' | 'afterCertExpiry';

/** A trust policy statement exactly as written in trustpolicy(.oci).json (version 1.0). */
export interface TrustPolicyStatementDocument {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly signatureVerification: {
    readonly level: string;
    readonly override?: Readonly<Record<string, string>>;
    readonly verifyTimestamp?: string;
  };
  readonly trustStores?: readonly string[];
  readonly trustedIdentities?: readonly string[];
}

export interface TrustPolicyDocument {
  readonly version: string;
  readonly trustPolicies: readonly TrustPolicyStatementDocument[];
}

export interface TrustStoreRef {
  readonly type: TrustStoreType;
  readonly name: string;
}

/** One RDN attribute set of an `x509.subject:` identity, e.g. {C: 'US', ST: 'WA', O: 'Notary'}. */
export type DistinguishedName = Readonly<Record<string, string>>;

/** A validated statement with everything resolved into typed values. */
export interface TrustPolicyStatement {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly level: VerificationLevelName;
  /** Action per check after applying overrides. Integrity is always `enforce` (unless level skip). */
  readonly actions: Readonly<Record<CheckName, VerificationAction>>;
  readonly verifyTimestamp: VerifyTimestamp;
  readonly trustStores: readonly TrustStoreRef[];
  /** True when trustedIdentities is exactly ["*"]. */
  readonly anyIdentity: boolean;
  /** Parsed `x509.subject:` identities. */
  readonly x509Identities: readonly DistinguishedName[];
  /** Identities with other prefixes (kept for plugins; Portcullis does not evaluate them). */
  readonly otherIdentities: readonly string[];
}

/** A validated trust policy document. */
export interface TrustPolicy {
  readonly version: '1.0';
  readonly statements: readonly TrustPolicyStatement[];
}
