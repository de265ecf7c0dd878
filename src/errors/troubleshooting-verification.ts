import type { ErrorCode } from './codes.js';
import type { Guidance } from './troubleshooting.js';

const INSPECT = '`portcullis inspect IMAGE` shows each signature with its attributes and certificate chain';

/** Guidance for the codes of verification itself: the signature, certificates, time, revocation. */
export const VERIFICATION_GUIDANCE = {
  ERR_NO_SIGNATURE: {
    where: 'A webhook denial, CLI `verify` (exit 1).',
    check: [
      '`portcullis list IMAGE` (or `discover`): no Notary signature refers to the digest the tag names now. Signatures belong to a digest: a rebuilt or re-pushed image needs a new signature.',
      'A multi-architecture image is checked by its index digest: sign the index (notation signs what the tag names).',
      'A registry without the Referrers API keeps signatures under the `sha256-<digest>` tag: a copy that left it out lost them (`portcullis copy -r` keeps them).',
    ],
  },
  ERR_INDEX_INVALID: {
    where: 'A webhook denial, CLI `verify` (exit 1).',
    check: [
      '`portcullis inspect IMAGE` shows the index: is it an OCI image index or a Docker manifest list, with a `manifests` list of valid descriptors?',
      'An index with no platform manifest (only attestation manifests, or none at all) cannot satisfy `platforms: all`: sign the index and use `index` or the default.',
      'More platform manifests than the cap (64) are refused rather than verified one by one: sign the index instead.',
    ],
  },
  ERR_PLATFORM_UNVERIFIED: {
    where: 'A webhook denial, CLI `verify --platforms all` (exit 1).',
    check: [
      'The message names the platform and digest that failed, and why (its own code in brackets).',
      '`portcullis list IMAGE@PLATFORM_DIGEST`: is that platform manifest signed? Signing a tag signs only what the tag names (the index).',
      'If the publisher signs the index only, the statement wants `platforms: index` (or the default, `any-of-index-or-all`).',
    ],
  },
  ERR_ATTESTATION_MISSING: {
    where: 'A webhook denial, CLI `verify --require-artifact TYPE` (exit 1).',
    check: [
      '`portcullis discover IMAGE`: is an artifact of that exact artifact type attached to the digest the pod runs (for a platform manifest pulled through a tag, to the index the tag names)?',
      'Copies between registries lose referrers unless copied with them (`portcullis copy -r`).',
    ],
  },
  ERR_ATTESTATION_UNSIGNED: {
    where: 'A webhook denial, CLI `verify --require-artifact TYPE` (exit 1).',
    check: [
      '`portcullis discover IMAGE` shows the attached artifact and whether a signature refers to it: sign the artifact by its own digest.',
    ],
  },
  ERR_ATTESTATION_REJECTED: {
    where: 'A webhook denial, CLI `verify --require-artifact TYPE` (exit 1).',
    check: [
      'The message names the trust policy statement the artifact must pass and the failed check (untrusted chain, revoked certificate, identity).',
      'Verify the artifact alone: `portcullis verify IMAGE_REPO@ARTIFACT_DIGEST -v` under a policy whose statement is the named one.',
    ],
  },
  ERR_ATTESTATION_STALE: {
    where: 'A webhook denial, CLI `verify --require-artifact TYPE --artifact-max-age D` (exit 1).',
    check: [
      "The artifact manifest's `org.opencontainers.image.created` annotation (RFC 3339) is older than `maxAge`, in the future, or absent: `portcullis discover -o json IMAGE`.",
      'Regenerate and re-sign the artifact regularly, or raise `maxAge`.',
    ],
  },
  ERR_SIGNATURE_LIMIT: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'More signatures failed than `verification.maxSignatureAttempts` (CLI `--max-signature-attempts`) allows: list them with `portcullis list IMAGE`.',
      'Many stale signatures on one digest usually mean a signing loop; clean them up rather than raising the limit.',
    ],
  },
  ERR_SIGNATURE_MANIFEST_INVALID: {
    where: 'A webhook denial, CLI `verify` or `inspect`.',
    check: [
      'The signature artifact was not written by a Notary signer (one layer, the envelope media type, a `subject`).',
      INSPECT + '; re-sign with notation or `portcullis sign`.',
    ],
  },
  ERR_ENVELOPE_UNSUPPORTED: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The signature layer must be `application/jose+json` or `application/cose`; other media types are not Notary signatures.',
    ],
  },
  ERR_ENVELOPE_MALFORMED: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The envelope is corrupt or was not produced by a Notary signer. ' + INSPECT + '.',
      'Re-sign; if a signer you control produced it, compare its output with `notation sign`.',
    ],
  },
  ERR_ENVELOPE_HEADER_INVALID: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'A required signed attribute (signing time, signing scheme, content type) is missing or mistyped: re-sign with a conformant signer.',
    ],
  },
  ERR_ENVELOPE_CRITICAL_UNKNOWN: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The signer marked an extension critical that verifiers must understand and Portcullis does not: sign without it, or see docs/compatibility.md.',
    ],
  },
  ERR_ENVELOPE_ALGORITHM: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      "The signature algorithm must match the signing certificate's key (RSASSA-PSS for RSA, ECDSA for EC) and be in Notary's allowed list.",
    ],
  },
  ERR_SIGNATURE_INVALID: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The signature bytes do not verify: the envelope was altered after signing, or signed with another key than the certificate it carries.',
      'Treat it as tampering until explained; re-sign from a trusted pipeline.',
    ],
  },
  ERR_PAYLOAD_INVALID: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The signed payload is not a Notary payload (`application/vnd.cncf.notary.payload.v1+json` with `targetArtifact`).',
    ],
  },
  ERR_PAYLOAD_MISMATCH: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The signature was made for another artifact (digest, media type or size): a signature copied onto a different image is refused by design.',
      'Sign the exact digest the pod runs.',
    ],
  },
  ERR_METADATA_MISMATCH: {
    where: 'CLI `verify -m key=value`.',
    check: [
      'The signature lacks the user metadata asked for: `portcullis inspect IMAGE` shows the signed annotations; sign with `-m key=value`.',
    ],
  },
  ERR_PLUGIN_REQUIRED: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The signature names a verification plugin (`io.cncf.notary.verificationPlugin`) that is not installed: `<config-dir>/plugins/NAME/notation-NAME` for the CLI, `plugins.directory` (chart: `verificationPlugins.volume`) for the webhook.',
      'Install the plugin the message names, or sign without a verification-plugin requirement.',
    ],
  },
  ERR_PLUGIN_VERSION: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      "Run the plugin's `get-plugin-metadata` and compare its `version` with the signature's `io.cncf.notary.verificationPluginMinVersion` (`portcullis inspect` shows it).",
    ],
  },
  ERR_PLUGIN_REJECTED: {
    where: 'A webhook denial, CLI `verify` (`-v` names the plugin and its version).',
    check: [
      "The plugin's own reason is in the message; check the statement's trusted identities and the plugin's configuration (`verify --plugin-config`).",
    ],
  },
  ERR_CERT_MALFORMED: {
    where: 'A trust store (status), a signature chain (denial), CLI `cert add` or `verify`.',
    check: [
      'The file or chain holds something other than X.509 PEM or DER certificates: `openssl x509 -in FILE -noout -text` must read it.',
    ],
  },
  ERR_CHAIN_INVALID: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The chain in the signature must run leaf first, each certificate issued by the next, ending at a self-signed root. ' +
        INSPECT +
        '.',
      'Sign with the full chain (leaf, intermediates, root).',
    ],
  },
  ERR_CERT_REQUIREMENTS: {
    where: 'A webhook denial, CLI `verify`, `key add` and `sign`.',
    check: [
      'Notary requires: the leaf with digitalSignature key usage and the codeSigning EKU (or none), CAs with basicConstraints CA:TRUE and keyCertSign, RSA ≥ 2048 / EC ≥ 256 bits, no SHA-1.',
      '`openssl x509 -noout -text` on each certificate of the chain; the message names the one at fault.',
    ],
  },
  ERR_CHAIN_UNTRUSTED: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      "No certificate of the signature's chain is in the stores the statement lists. " +
        INSPECT +
        '; compare its fingerprints with `kubectl get clustertruststore NAME -o yaml` (or `portcullis cert list`).',
      "Add the chain's root (or the self-signed signing certificate) to the store; after a CA rotation both roots may be needed for a while.",
    ],
  },
  ERR_TRUSTSTORE_EMPTY_FOR_SCHEME: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'A `notary.x509` signature needs a `ca` store in the statement, a `notary.x509.signingAuthority` signature a `signingAuthority` store.',
      'Add a store of the type the signing scheme needs to `trustStores`.',
    ],
  },
  ERR_IDENTITY_MISMATCH: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      "The signing certificate's subject must contain every attribute of one `x509.subject:` trusted identity. " +
        INSPECT +
        ' (subject of the first certificate).',
      'Attribute order does not matter; values must match exactly; C, ST and O are required in the identity.',
    ],
  },
  ERR_IDENTITY_NONE: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      '`trustedIdentities` holds nothing Portcullis can evaluate: use `x509.subject: <DN>` entries, or `*` to accept any identity the stores trust.',
    ],
  },
  ERR_SIGNATURE_EXPIRED: {
    where: 'A webhook denial (level strict), a warning (permissive), CLI `verify`.',
    check: [
      'The signature carries an expiry (`sign --expiry`) that has passed: re-sign the image, or relax `expiry` with the statement level or an override.',
    ],
  },
  ERR_CERT_NOT_VALID_AT_TIME: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'A certificate of the chain has expired or is not yet valid at the time that counts. ' +
        INSPECT +
        ' with validity dates.',
      'A signature meant to outlive its certificate needs an RFC 3161 timestamp (`sign --timestamp-url`) and a tsa store in the statement.',
      "The node's and the server's clocks: a certificate issued seconds ago may not be valid yet on a clock that runs behind.",
    ],
  },
  ERR_TIMESTAMP_MISSING: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The statement requires a timestamp (`verifyTimestamp: always` with a tsa store) and the signature has none: sign with `--timestamp-url`, or use `afterCertExpiry`.',
    ],
  },
  ERR_TIMESTAMP_INVALID: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The timestamp countersignature is malformed or does not verify over the signature: re-sign with a working TSA.',
    ],
  },
  ERR_TIMESTAMP_UNTRUSTED: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      "The TSA's root is not in any `tsa` store the statement lists: add the TSA's root certificate (a self-signed root) to a tsa store.",
    ],
  },
  ERR_TIMESTAMP_OUTSIDE_VALIDITY: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The signature was timestamped when the signing certificate was not valid (before issue or after expiry): re-sign with a valid certificate.',
    ],
  },
  ERR_CERT_REVOKED: {
    where: 'A webhook denial, CLI `verify`.',
    check: [
      'The CA revoked a certificate of the chain (OCSP or CRL): the signature must not be trusted. Re-sign with a new certificate.',
      'For an image that must run meanwhile, a statement override `revocation: log` is possible — a deliberate, visible decision.',
    ],
  },
  ERR_REVOCATION_UNKNOWN: {
    where: 'A webhook denial (strict), a warning (permissive), CLI `verify`.',
    check: [
      'The OCSP responder and the CRL distribution points in the certificates were unreachable or answered unusably: can the server reach them (egress, NetworkPolicy, proxy)?',
      '`verification.revocation: offline` (CLI `--revocation offline`) makes such certificates "unknown" on purpose; `--verbose` shows the revocation fetches.',
    ],
  },
} satisfies Partial<Record<ErrorCode, Guidance>>;
