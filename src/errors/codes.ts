/**
 * Every stable error code Portcullis can produce, with a one-line meaning and what a person
 * should do about it. `docs/errors.md` is checked against this table by a test, so the two
 * cannot drift apart. Codes never change meaning once released; add new ones instead.
 */
import { SPLIT_ERROR_CODES } from './codes-infrastructure.js';

export interface ErrorCodeInfo {
  /** What went wrong, in one line. */
  readonly summary: string;
  /** What to do about it. */
  readonly remedy: string;
}

export const ERROR_CODES = {
  // --- input and configuration -------------------------------------------------------------
  ERR_INPUT_INVALID: {
    summary: 'A command-line argument or API input is malformed.',
    remedy: 'Fix the argument named in the message; `portcullis <command> --help` lists the forms.',
  },
  ERR_CONFIG_INVALID: {
    summary: 'A configuration file (signingkeys.json, config YAML) is unreadable or malformed.',
    remedy: 'Fix or remove the file named in the message.',
  },
  ERR_SIZE_LIMIT: {
    summary: 'An input is larger than the configured byte cap.',
    remedy: 'Check the artifact; raise the cap only if the content is legitimate.',
  },
  ERR_DIGEST_MISMATCH: {
    summary: 'Content does not match the digest it was addressed by.',
    remedy: 'The storage is corrupt or tampered with; re-fetch or re-push the content.',
  },
  ERR_DIGEST_INVALID: {
    summary: 'A digest string is not `<algorithm>:<hex>` with a supported algorithm.',
    remedy: 'Use a sha256/sha384/sha512 digest with lower-case hex of the right length.',
  },

  // --- trust policy ------------------------------------------------------------------------
  ERR_POLICY_NOT_FOUND: {
    summary: 'No trust policy document (trustpolicy.oci.json or trustpolicy.json) was found.',
    remedy: 'Create one in the configuration directory or pass --config-dir.',
  },
  ERR_POLICY_INVALID: {
    summary:
      'The trust policy document violates a rule of the Notary trust policy spec; the whole document is rejected.',
    remedy: 'Fix the statement and rule named in the message; `portcullis policy validate` re-checks it.',
  },
  ERR_POLICY_NO_MATCH: {
    summary: 'No trust policy statement applies to the artifact (no exact registry scope and no `*`).',
    remedy: "Add the repository to a statement's registryScopes, or add a `*` statement.",
  },

  // --- trust store -------------------------------------------------------------------------
  ERR_TRUSTSTORE_NOT_FOUND: {
    summary: 'A trust store named by the policy does not exist.',
    remedy: 'Create truststore/x509/<type>/<name>/ with certificates, e.g. `portcullis cert add`.',
  },
  ERR_TRUSTSTORE_INVALID: {
    summary:
      'A trust store holds a file that is not a certificate, a non-CA leaf, a symlink, a subdirectory, or nothing.',
    remedy: 'Keep only CA or self-signed certificates (roots for tsa stores) as regular files in the store.',
  },
  ERR_TRUSTSTORE_REF_NOT_FOUND: {
    summary:
      'A TrustStore or ClusterTrustStore certificateRef names a Secret, ConfigMap or key that does not exist (or cannot be decoded).',
    remedy: 'Create the Secret or ConfigMap with that key in the namespace the reference names, or fix the reference.',
  },

  // --- policy resources (TrustPolicy, ClusterTrustPolicy, TrustStore, ClusterTrustStore) ----
  ERR_IMPORT_NOTHING_TO_CONVERT: {
    summary:
      'The files given to `portcullis import` hold no resource that importer converts (no Ratify notation verifier or Executor, no Kyverno Notary verifyImages rule or notary attestor).',
    remedy:
      'Pass the Ratify (`import ratify`) or Kyverno (`import kyverno`) manifests themselves, e.g. `kubectl get verifiers,namespacedverifiers,keymanagementproviders -A -o yaml`; docs/migrating.md.',
  },
  ERR_RESOURCE_INVALID: {
    summary:
      'A portcullis.dev resource or policy manifest file is malformed: unparsable YAML, unknown kind or apiVersion, missing name, bad field, unknown enforcementAction or selector operator, or defined twice.',
    remedy:
      'Fix the resource or file named in the message; an edit that made it invalid leaves its last valid version in force, and at start-up it blocks the namespaces it covers (docs/policies.md).',
  },

  // --- signature manifest, envelope and payload (integrity) --------------------------------
  ERR_SIGNATURE_MANIFEST_INVALID: {
    summary: 'A signature manifest does not have the Notary shape (one layer, subject, media types).',
    remedy: 'Re-sign the artifact with a Notary Project signer.',
  },
  ERR_ENVELOPE_UNSUPPORTED: {
    summary: 'The signature envelope media type is neither application/jose+json nor application/cose.',
    remedy: 'Re-sign with a JWS or COSE envelope.',
  },
  ERR_ENVELOPE_MALFORMED: {
    summary:
      'The signature envelope cannot be decoded (JSON/CBOR/base64 errors, duplicate keys, missing members, too large).',
    remedy: 'The signature is corrupt or was not produced by a Notary signer; re-sign the artifact.',
  },
  ERR_ENVELOPE_HEADER_INVALID: {
    summary: 'A signed attribute is missing, has the wrong type, or violates the critical-header rules.',
    remedy: 'Re-sign with a conforming Notary signer.',
  },
  ERR_ENVELOPE_CRITICAL_UNKNOWN: {
    summary: 'The envelope marks an attribute critical that Portcullis does not understand.',
    remedy: 'The signer requires processing Portcullis cannot do; re-sign without that attribute.',
  },
  ERR_ENVELOPE_ALGORITHM: {
    summary: 'The signature algorithm is not allowed or does not match the signing key.',
    remedy: 'Sign with RSA-PSS (2048/3072/4096) or ECDSA (P-256/384/521) as the Notary spec requires.',
  },
  ERR_SIGNATURE_INVALID: {
    summary: 'The cryptographic signature does not verify over the payload and signed attributes.',
    remedy: 'The signature or payload was altered; re-sign the artifact.',
  },
  ERR_PAYLOAD_INVALID: {
    summary: 'The signed payload has an unsupported content type or is not a valid Notary payload.',
    remedy: 'Re-sign with a Notary signer (payload application/vnd.cncf.notary.payload.v1+json).',
  },
  ERR_PAYLOAD_MISMATCH: {
    summary: 'The signed payload describes a different artifact (media type, digest or size differ).',
    remedy: 'The signature belongs to other content; sign this artifact.',
  },
  ERR_METADATA_MISMATCH: {
    summary: 'The signed payload lacks user metadata the verifier requires (or has a different value).',
    remedy: 'Check the --user-metadata values, or re-sign the artifact with them.',
  },
  ERR_PLUGIN_REQUIRED: {
    summary:
      'The signature names a verification plugin (io.cncf.notary.verificationPlugin) that is not installed, or one without a SIGNATURE_VERIFIER capability, or no plugin directory is configured.',
    remedy:
      'Install the plugin as <plugin directory>/<name>/notation-<name> (CLI: <config-dir>/plugins; webhook: plugins.directory), or use a signature that needs no plugin.',
  },
  ERR_PLUGIN_VERSION: {
    summary:
      'The installed verification plugin is older than the io.cncf.notary.verificationPluginMinVersion the signature asks for, or a version is not SemVer 2.0.0.',
    remedy: 'Install a version of the plugin at least as recent as the signature requires.',
  },
  ERR_PLUGIN_REJECTED: {
    summary:
      "A verification plugin answered that the signature's trusted identity or revocation check failed (its reason is in the message).",
    remedy: 'Read the reason the plugin gives; check the trusted identities and the plugin configuration.',
  },

  // --- certificates ------------------------------------------------------------------------
  ERR_CERT_MALFORMED: {
    summary: 'A certificate cannot be parsed as X.509 DER or PEM.',
    remedy: 'Replace the file or re-sign with a valid certificate chain.',
  },
  ERR_CHAIN_INVALID: {
    summary:
      'The certificate chain is not an ordered leaf-to-self-signed-root chain where each certificate is issued by the next.',
    remedy: 'Sign with the complete chain: leaf, intermediates, root, in that order.',
  },
  ERR_CERT_REQUIREMENTS: {
    summary:
      'A certificate breaks the Notary code-signing or time-stamping requirements (basic constraints, key usage, EKU, path length, key size, SHA-1).',
    remedy: 'Issue certificates that follow the Notary certificate requirements.',
  },

  // --- authenticity ------------------------------------------------------------------------
  ERR_CHAIN_UNTRUSTED: {
    summary: "The signature's certificate chain does not contain any certificate of the policy's trust stores.",
    remedy: "Add the signer's root CA to a trust store the policy lists (`portcullis cert add`), or check the signer.",
  },
  ERR_TRUSTSTORE_EMPTY_FOR_SCHEME: {
    summary: 'The policy lists no trust store of the type the signing scheme needs (ca or signingAuthority).',
    remedy: 'Add a `ca:` (notary.x509) or `signingAuthority:` store to the statement.',
  },
  ERR_IDENTITY_MISMATCH: {
    summary: 'The signing certificate subject matches none of the trusted identities.',
    remedy: "Add the signer's subject to trustedIdentities, or check who signed.",
  },
  ERR_IDENTITY_NONE: {
    summary: 'The policy configures no x509.subject trusted identity that Portcullis can evaluate.',
    remedy: 'Add an `x509.subject:` identity or `*`.',
  },

  // --- expiry ------------------------------------------------------------------------------
  ERR_SIGNATURE_EXPIRED: {
    summary: 'The signature is past its signed expiry time.',
    remedy: 'Re-sign the artifact.',
  },

  // --- authentic timestamp -----------------------------------------------------------------
  ERR_CERT_NOT_VALID_AT_TIME: {
    summary:
      'A certificate of the chain was not valid at the time that counts (now, the authentic signing time, or the timestamp).',
    remedy: 'Re-sign with a valid certificate, or timestamp signatures so they outlive the certificate.',
  },
  ERR_TIMESTAMP_MISSING: {
    summary: 'The policy requires an RFC 3161 timestamp and the signature has none.',
    remedy: 'Sign with --timestamp-url, or remove the tsa store / use verifyTimestamp afterCertExpiry.',
  },
  ERR_TIMESTAMP_INVALID: {
    summary: 'The RFC 3161 timestamp countersignature is malformed or does not verify.',
    remedy: 'Re-sign with a working timestamp authority.',
  },
  ERR_TIMESTAMP_UNTRUSTED: {
    summary: "The timestamp authority chain does not lead to a certificate of the policy's tsa stores.",
    remedy: 'Add the TSA root to a `tsa:` store the policy lists.',
  },
  ERR_TIMESTAMP_OUTSIDE_VALIDITY: {
    summary: 'The timestamp lies outside the validity period of a signing certificate.',
    remedy: 'The certificate was not valid when the signature was made; re-sign.',
  },

  // --- revocation --------------------------------------------------------------------------
  ERR_CERT_REVOKED: {
    summary: 'A certificate of the chain is revoked.',
    remedy: 'Re-sign with a certificate that is not revoked.',
  },
  ERR_REVOCATION_UNKNOWN: {
    summary: 'The revocation status of a certificate could not be determined.',
    remedy: 'Make OCSP/CRL endpoints reachable, or set revocation to log/skip for air-gapped clusters.',
  },

  // --- workflow ----------------------------------------------------------------------------
  ERR_NO_SIGNATURE: {
    summary: 'No Notary signature is associated with the artifact.',
    remedy: 'Sign the artifact (`portcullis sign` or `notation sign`).',
  },
  ERR_SIGNATURE_LIMIT: {
    summary: 'More signatures failed than the configured maximum number of attempts.',
    remedy: 'Remove stale signatures or raise --max-signature-attempts.',
  },
  // Multi-platform images, required signed artifacts, plugins, memory (codes-images.ts, codes-infrastructure.ts).
  ...SPLIT_ERROR_CODES,
  // --- image references and registries -----------------------------------------------------
  ERR_REF_INVALID: {
    summary: 'An image reference is not `[registry/]repository[:tag][@digest]` in the distribution grammar.',
    remedy:
      'Fix the part the message names (lower-case repository, tag of at most 128 characters, sha256/384/512 digest).',
  },
  ERR_REF_AMBIGUOUS: {
    summary:
      'An image reference or registry scope is spelt in a way the container runtime may read as another registry or repository (a numeric host such as `127.1`, an explicit `:443`/`:80`, `registry-1.docker.io/nginx`), so it has no one canonical form.',
    remedy:
      'Write the form the message suggests: four-decimal IPv4 addresses, no default port, `docker.io/library/<name>` for official images.',
  },
  ERR_REF_DIGEST_MISMATCH: {
    summary: 'The tag of a `name:tag@digest` reference points to a different digest in the registry.',
    remedy: 'The tag moved since the reference was written: use the digest alone, or update the reference.',
  },
  ERR_REGISTRY_UNREACHABLE: {
    summary: 'The registry cannot be reached (connection refused or reset, DNS failure, plain HTTP refused).',
    remedy: 'Check the registry host and port, network policy and proxies; plain HTTP needs the plainHttp option.',
  },
  ERR_REGISTRY_TLS: {
    summary: 'The TLS connection to the registry failed (untrusted or invalid certificate, handshake error).',
    remedy: "Give the registry's CA certificate for that host, or fix the registry certificate.",
  },
  ERR_REGISTRY_UNAUTHORIZED: {
    summary: 'The registry (or its token server) rejected the credentials, or none were available.',
    remedy: 'Check the credentials for the registry host (docker config.json, credential helper, pull secret).',
  },
  ERR_REGISTRY_DENIED: {
    summary: 'The registry refused access to the repository (403) for the credentials given.',
    remedy: 'Grant the identity pull (or push) access to the repository named in the message.',
  },
  ERR_REGISTRY_NOT_FOUND: {
    summary: 'The repository, manifest, tag or blob does not exist in the registry.',
    remedy: 'Check the reference; the message names the registry, repository and what was missing.',
  },
  ERR_REGISTRY_TIMEOUT: {
    summary: 'The registry operation did not finish within its deadline (or was cancelled).',
    remedy: 'Check registry latency; raise the timeout only if the registry is known to be slow.',
  },
  ERR_REGISTRY_RATE_LIMITED: {
    summary:
      'The registry answered 429 Too Many Requests, and its Retry-After (or the wait for a turn while it throttles) does not fit in the deadline.',
    remedy: 'Wait, authenticate (anonymous limits are lower), or mirror the images to a registry you control.',
  },
  ERR_REGISTRY_UNAVAILABLE: {
    summary: 'The registry answered with a server error (5xx) that did not clear within the retries.',
    remedy: "Retry later; check the registry's status.",
  },
  ERR_REGISTRY_RESPONSE: {
    summary: 'The registry answered in violation of the distribution spec (unexpected status, header or body).',
    remedy: 'Report it to the registry operator with the message; the registry may not support this operation.',
  },
  ERR_CREDENTIAL_HELPER: {
    summary: 'A docker credential helper failed, timed out or printed malformed output.',
    remedy: 'Run `docker-credential-<name> get` by hand with the server URL on stdin and fix what it reports.',
  },

  // --- OCI layout and keys -----------------------------------------------------------------
  ERR_LAYOUT_INVALID: {
    summary: 'The OCI image layout is unreadable or malformed.',
    remedy: 'Check the directory holds oci-layout, index.json and blobs/.',
  },
  ERR_LAYOUT_NOT_FOUND: {
    summary: 'The tag or digest is not in the OCI image layout.',
    remedy: 'Check the reference; `ls <dir>/blobs/sha256` and index.json list what is there.',
  },
  ERR_KEY_NOT_FOUND: {
    summary: 'The named signing key is not in signingkeys.json.',
    remedy: 'Create it with `portcullis cert generate-test NAME` or pass an existing --key.',
  },
  ERR_KEY_INVALID: {
    summary: 'A signing key or its certificate cannot be used (unreadable, unsupported type, mismatch).',
    remedy: 'Regenerate the key or fix signingkeys.json.',
  },
  ERR_PLUGIN_NOT_FOUND: {
    summary: 'The signing plugin executable is missing, a symlink, not a regular file or not executable.',
    remedy: 'Install it as <config>/plugins/<name>/notation-<name> (a regular executable file).',
  },
  ERR_PLUGIN_FAILED: {
    summary:
      'A signing or verification plugin failed, timed out, wrote too much, broke the plugin contract or returned a signature that does not check out.',
    remedy: 'Read the plugin error code and message; check the key id and plugin configuration.',
  },
  ERR_TIMESTAMP_FAILED: {
    summary: 'The RFC 3161 timestamp authority could not be reached or gave an unusable answer while signing.',
    remedy: 'Check --timestamp-url and --timestamp-root-cert, and that the TSA is up.',
  },
  // --- CLI: configuration directory and serve start-up -----------------------------------------
  ERR_POLICY_EXISTS: {
    summary:
      'A trust policy already exists in the configuration directory; `policy init` and `policy import` never replace it silently.',
    remedy: 'Keep a copy (`portcullis policy show > old-policy.json`), then run the command again with --force.',
  },
  ERR_SIGNATURE_FILE_EXISTS: {
    summary: 'The detached signature file `blob sign` would write already exists.',
    remedy: 'Add --force to replace it, or sign into another --signature-directory.',
  },
  ERR_KEY_EXISTS: {
    summary: 'A signing key of that name is already in signingkeys.json.',
    remedy: 'Pick another name, or remove the old entry first with `portcullis key delete NAME`.',
  },
  ERR_CERT_NOT_FOUND: {
    summary: 'The named certificate file is not in that trust store.',
    remedy: '`portcullis cert list --type TYPE --store NAME` lists the files a store holds.',
  },
  ERR_PORT_IN_USE: {
    summary:
      '`serve` cannot listen: another process already listens on that address and port (or the port needs privileges).',
    remedy: 'Stop the other process, or start serve with another --port (or --host).',
  },
  ERR_TLS_FILE: {
    summary: '`serve` cannot read its serving certificate or key file (missing, unreadable, not PEM).',
    remedy:
      'Check the --tls-cert and --tls-key paths and permissions, or leave both out for a development certificate.',
  },
  ERR_POLICY_DIR_UNREADABLE: {
    summary: '`serve --policies DIR` cannot read the policy directory (missing, not a directory, no permission).',
    remedy:
      'Create the directory or fix its permissions (the server user needs read and execute), or point --policies elsewhere.',
  },
  ERR_KUBE_API: {
    summary: 'A request to the Kubernetes API failed (audit, explain, the background audit, leader election).',
    remedy: 'Check the kubeconfig (or service account), the API server, and that RBAC grants the verb named.',
  },
  // --- admission webhook and Gatekeeper provider --------------------------------------------
  ERR_ADMISSION_INVALID: {
    summary:
      'An AdmissionReview or Gatekeeper ProviderRequest body is malformed (not JSON, wrong apiVersion/kind, missing or mistyped fields).',
    remedy:
      'Send admission.k8s.io/v1 AdmissionReview (or externaldata.gatekeeper.sh ProviderRequest) as the message describes; check the webhook configuration.',
  },
  ERR_BODY_TOO_LARGE: {
    summary: "A request body is larger than the webhook's body limit.",
    remedy: 'Check what is sending it; raise the bodyLimit setting only if such objects are legitimate.',
  },
  ERR_CLIENT_CERT_REQUIRED: {
    summary:
      'Client certificates are required (tls.clientCaFile) and the request came without one issued by the client CA: answered with HTTP 401. Only /healthz and /readyz are served without one.',
    remedy:
      'Give the caller (Gatekeeper, the API server) a client certificate issued by the configured client CA, or unset tls.clientCaFile.',
  },
  ERR_UNSUPPORTED_KIND: {
    summary:
      'The webhook received something it does not check (another kind, DELETE or CONNECT, a subresource other than pods/ephemeralcontainers): it is allowed unchecked, with this code in a warning that names the webhook configuration rule that sent it.',
    remedy:
      'Limit the webhook configuration rules to CREATE and UPDATE of pods, pods/ephemeralcontainers and the workload kinds Portcullis handles.',
  },
  ERR_REVIEW_TOO_MANY_REGISTRIES: {
    summary:
      'One review (a pod, a workload, a Gatekeeper request) names images on more registries than the webhook contacts for one review (registries.maxHostsPerReview); the images beyond it are denied, whatever the failure policy.',
    remedy:
      'Use fewer registries in one pod (mirror images into your registry), or raise registries.maxHostsPerReview.',
  },
  ERR_REVIEW_TOO_MANY_IMAGES: {
    summary:
      'One review names more images that must be fetched than the webhook fetches for one review (registries.maxImagesPerReview); the images beyond it are denied, whatever the failure policy.',
    remedy: 'Split the pod, or raise registries.maxImagesPerReview.',
  },
  ERR_DEADLINE_EXCEEDED: {
    summary: 'No decision was reached within the request deadline (the webhook timeout minus the safety margin).',
    remedy:
      'Check registry latency and the failure policy; raise the webhook timeout if registries are known to be slow.',
  },
  ERR_INTERNAL: {
    summary: 'An unexpected internal error.',
    remedy: 'Report it with the message and the input that caused it.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
