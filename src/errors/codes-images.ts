/** The error codes of multi-platform images and required signed artifacts (part of ERROR_CODES, codes.ts). */
export const IMAGE_ERROR_CODES = {
  ERR_INDEX_INVALID: {
    summary:
      'An image index (multi-platform image) cannot be read, lists no platform manifest, or lists more than the cap.',
    remedy: 'Check the index with `portcullis inspect`; re-push it as a valid OCI image index or Docker manifest list.',
  },
  ERR_PLATFORM_UNVERIFIED: {
    summary:
      'A platform manifest of a multi-platform image did not verify, and the statement requires every platform manifest to (`platforms: all`).',
    remedy:
      'Sign every platform manifest the index lists, or sign the index and set `platforms` to `index` or the default.',
  },
  ERR_ATTESTATION_MISSING: {
    summary: 'A required artifact (for example an SBOM) is not attached to the image as a referrer.',
    remedy: 'Attach it (`portcullis attach` or `oras attach`) to the digest the pod runs, then sign it.',
  },
  ERR_ATTESTATION_UNSIGNED: {
    summary: 'A required artifact is attached to the image but carries no Notary signature.',
    remedy: 'Sign the attached artifact by its digest (`portcullis sign REPO@DIGEST`).',
  },
  ERR_ATTESTATION_REJECTED: {
    summary: 'A required artifact is signed, but no signature passes the trust policy statement it must pass.',
    remedy: 'Re-sign the artifact with a key that statement trusts; the message names the failed check.',
  },
  ERR_ATTESTATION_STALE: {
    summary:
      'A required artifact is older than the statement allows (its `org.opencontainers.image.created` annotation), or carries no such date.',
    remedy: 'Publish a fresh one (with the annotation) and sign it, or raise `maxAge`.',
  },
} as const;
