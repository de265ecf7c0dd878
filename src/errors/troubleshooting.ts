import type { ErrorCode } from './codes.js';

/**
 * Hand-written guidance for docs/troubleshooting.md: for every code of codes.ts, where a user
 * meets it and what to check, in the order a person would check. The meaning and the remedy come
 * from codes.ts; troubleshooting-doc.ts puts the two together, and a test keeps the generated
 * file equal to it (`npm run docs:errors` writes both docs). The Record type makes a new code
 * without guidance a type error.
 */
export interface Guidance {
  /** Where the code shows up: the CLI, a webhook denial, a policy's status, the server log. */
  readonly where: string;
  /** What to look at, in order. */
  readonly check: readonly string[];
}

export interface Section {
  readonly title: string;
  readonly codes: readonly ErrorCode[];
}

export const SECTIONS: readonly Section[] = [
  {
    title: 'Input and configuration',
    codes: ['ERR_INPUT_INVALID', 'ERR_CONFIG_INVALID', 'ERR_SIZE_LIMIT', 'ERR_DIGEST_MISMATCH', 'ERR_DIGEST_INVALID'],
  },
  {
    title: 'Trust policies and trust stores',
    codes: [
      'ERR_POLICY_NOT_FOUND',
      'ERR_POLICY_INVALID',
      'ERR_POLICY_NO_MATCH',
      'ERR_TRUSTSTORE_NOT_FOUND',
      'ERR_TRUSTSTORE_INVALID',
      'ERR_TRUSTSTORE_REF_NOT_FOUND',
      'ERR_RESOURCE_INVALID',
      'ERR_IMPORT_NOTHING_TO_CONVERT',
    ],
  },
  {
    title: 'The signature itself',
    codes: [
      'ERR_NO_SIGNATURE',
      'ERR_SIGNATURE_LIMIT',
      'ERR_SIGNATURE_MANIFEST_INVALID',
      'ERR_ENVELOPE_UNSUPPORTED',
      'ERR_ENVELOPE_MALFORMED',
      'ERR_ENVELOPE_HEADER_INVALID',
      'ERR_ENVELOPE_CRITICAL_UNKNOWN',
      'ERR_ENVELOPE_ALGORITHM',
      'ERR_SIGNATURE_INVALID',
      'ERR_PAYLOAD_INVALID',
      'ERR_PAYLOAD_MISMATCH',
      'ERR_METADATA_MISMATCH',
      'ERR_PLUGIN_REQUIRED',
      'ERR_PLUGIN_VERSION',
      'ERR_PLUGIN_REJECTED',
    ],
  },
  {
    title: 'Certificates, trust and identity',
    codes: [
      'ERR_CERT_MALFORMED',
      'ERR_CHAIN_INVALID',
      'ERR_CERT_REQUIREMENTS',
      'ERR_CHAIN_UNTRUSTED',
      'ERR_TRUSTSTORE_EMPTY_FOR_SCHEME',
      'ERR_IDENTITY_MISMATCH',
      'ERR_IDENTITY_NONE',
    ],
  },
  {
    title: 'Time: expiry and timestamps',
    codes: [
      'ERR_SIGNATURE_EXPIRED',
      'ERR_CERT_NOT_VALID_AT_TIME',
      'ERR_TIMESTAMP_MISSING',
      'ERR_TIMESTAMP_INVALID',
      'ERR_TIMESTAMP_UNTRUSTED',
      'ERR_TIMESTAMP_OUTSIDE_VALIDITY',
    ],
  },
  { title: 'Revocation', codes: ['ERR_CERT_REVOKED', 'ERR_REVOCATION_UNKNOWN'] },
  {
    title: 'Image references and registries',
    codes: [
      'ERR_REF_INVALID',
      'ERR_REF_AMBIGUOUS',
      'ERR_REF_DIGEST_MISMATCH',
      'ERR_REGISTRY_UNREACHABLE',
      'ERR_REGISTRY_TLS',
      'ERR_REGISTRY_UNAUTHORIZED',
      'ERR_REGISTRY_DENIED',
      'ERR_REGISTRY_NOT_FOUND',
      'ERR_REGISTRY_TIMEOUT',
      'ERR_REGISTRY_RATE_LIMITED',
      'ERR_REGISTRY_UNAVAILABLE',
      'ERR_REGISTRY_RESPONSE',
      'ERR_CREDENTIAL_HELPER',
    ],
  },
  {
    title: 'The webhook and the Gatekeeper provider',
    codes: [
      'ERR_DEADLINE_EXCEEDED',
      'ERR_REVIEW_TOO_MANY_REGISTRIES',
      'ERR_REVIEW_TOO_MANY_IMAGES',
      'ERR_UNSUPPORTED_KIND',
      'ERR_ADMISSION_INVALID',
      'ERR_BODY_TOO_LARGE',
      'ERR_CLIENT_CERT_REQUIRED',
      'ERR_PORT_IN_USE',
      'ERR_TLS_FILE',
      'ERR_POLICY_DIR_UNREADABLE',
      'ERR_KUBE_API',
    ],
  },
  {
    title: 'Signing, keys and layouts (CLI)',
    codes: [
      'ERR_KEY_NOT_FOUND',
      'ERR_KEY_INVALID',
      'ERR_KEY_EXISTS',
      'ERR_PLUGIN_NOT_FOUND',
      'ERR_PLUGIN_FAILED',
      'ERR_SIGNATURE_FILE_EXISTS',
      'ERR_TIMESTAMP_FAILED',
      'ERR_POLICY_EXISTS',
      'ERR_CERT_NOT_FOUND',
      'ERR_LAYOUT_INVALID',
      'ERR_LAYOUT_NOT_FOUND',
    ],
  },
  { title: 'Everything else', codes: ['ERR_INTERNAL'] },
];

const INSPECT = '`portcullis inspect IMAGE` shows each signature with its attributes and certificate chain';

export const GUIDANCE: Readonly<Record<ErrorCode, Guidance>> = {
  ERR_INPUT_INVALID: {
    where: 'CLI (exit 2), the `serve` configuration, `portcullis import`.',
    check: [
      'The message names the argument or field; `portcullis <command> --help` lists the accepted forms.',
      'For `--config` files, docs/configuration.md has every key and its type.',
    ],
  },
  ERR_CONFIG_INVALID: {
    where: 'CLI commands that read the notation configuration directory; `serve` start-up.',
    check: [
      'Which configuration directory was read: `--config-dir`, else `$NOTATION_CONFIG`, else `~/.config/notation`.',
      'Run the file through a JSON or YAML parser; duplicate keys are refused on purpose.',
    ],
  },
  ERR_SIZE_LIMIT: {
    where: 'A registry answer, an envelope, a policy manifest file (1 MiB), a file given to the CLI.',
    check: [
      'Whether the content is what you expect: a signature envelope of several MiB usually is not.',
      'In directory mode, a manifest file over 1 MiB or more than 1000 files blocks every namespace until fixed (docs/policies.md).',
    ],
  },
  ERR_DIGEST_MISMATCH: {
    where: 'Registry reads and copies; a webhook denial.',
    check: [
      'Whether a proxy or cache in front of the registry rewrites content.',
      'Re-push the artifact; `portcullis copy` and `portcullis verify` check every byte against its digest.',
    ],
  },
  ERR_DIGEST_INVALID: {
    where: 'An image reference or descriptor with a digest.',
    check: ['The digest is `sha256:` (or sha384/sha512) and lower-case hex of the right length.'],
  },
  ERR_POLICY_NOT_FOUND: {
    where:
      'CLI `verify` without a trust policy; the webhook with `denyUnmatchedNamespaces` for a namespace no policy covers.',
    check: [
      'CLI: `portcullis policy show` prints the document in force; create one with `portcullis policy init`.',
      'Webhook: `kubectl get clustertrustpolicies` (their namespaceSelector) and `kubectl get trustpolicies -n NS` — no policy covers the namespace.',
    ],
  },
  ERR_POLICY_INVALID: {
    where:
      "`portcullis policy validate`, a TrustPolicy's or ClusterTrustPolicy's status (READY False, reason Invalid), a denial in the namespaces an invalid policy blocks.",
    check: [
      '`kubectl get clustertrustpolicies,trustpolicies -A` shows READY and REASON; the status message names the statement and the rule.',
      'The last valid version of a policy stays in force after a bad edit; a new invalid policy changes nothing; at start-up an invalid policy blocks what it covers (docs/policies.md, Invalid resources).',
      'Common causes: `version: 1.0` unquoted (a number), a trusted identity DN without C, ST and O, a registry scope with a wildcard, a statement name used twice.',
    ],
  },
  ERR_POLICY_NO_MATCH: {
    where:
      'CLI `verify`; the webhook with `denyUnmatchedNamespaces` when policies cover the namespace but none has a statement for the repository.',
    check: [
      "The statement's `registryScopes` must name the repository exactly (`registry/path`, canonical spelling) or be `*`.",
      'A tag or digest is not part of a scope; `docker.io/nginx` covers `nginx`.',
    ],
  },
  ERR_TRUSTSTORE_NOT_FOUND: {
    where:
      "CLI `verify`; a policy's status (the policy is invalid); `portcullis import` output for stores it could not fill.",
    check: [
      'A TrustPolicy looks for a TrustStore of that name and type in its namespace, then a ClusterTrustStore; a ClusterTrustPolicy only for ClusterTrustStores.',
      'The type must match: `ca:acme` needs a store with `spec.type: ca`.',
      'CLI: the store is `truststore/x509/<type>/<name>/` in the configuration directory (`portcullis cert list`).',
    ],
  },
  ERR_TRUSTSTORE_INVALID: {
    where: "A TrustStore's or ClusterTrustStore's status, and the status of every policy that names it; CLI `verify`.",
    check: [
      '`kubectl get truststores,clustertruststores -A`; the message names the certificate at fault.',
      'ca and signingAuthority stores hold CA or self-signed certificates (not a leaf issued by a CA: add its root); tsa stores hold self-signed root CAs.',
      'A store needs at least one certificate.',
    ],
  },
  ERR_TRUSTSTORE_REF_NOT_FOUND: {
    where: "A TrustStore's or ClusterTrustStore's status.",
    check: [
      'The Secret or ConfigMap exists in the namespace named (a TrustStore reads only its own namespace) and has the key.',
      'It is labelled `portcullis.dev/trust-material=true`: unlabelled objects are never read and look missing.',
      'Secret `data` must be base64; `stringData` and ConfigMap `data` are text.',
    ],
  },
  ERR_RESOURCE_INVALID: {
    where:
      "A policy resource's status, the server log (directory mode: with the file name), a denial in what it blocks.",
    check: [
      'Unknown `spec` fields are refused, not ignored: check spelling against docs/policies.md.',
      'kind and apiVersion `portcullis.dev/v1alpha1`; label values in selectors are strings (quote "true").',
      'Directory mode: the same resource defined twice with different content in two files.',
    ],
  },
  ERR_IMPORT_NOTHING_TO_CONVERT: {
    where: '`portcullis import ratify|kyverno` (exit 2).',
    check: [
      'The right importer for the files: Ratify resources need `import ratify`, Kyverno policies `import kyverno`.',
      'Only Notary verification converts: a Ratify `notation` verifier or Executor, a Kyverno rule with `type: Notary` or an ImageValidatingPolicy `notary` attestor (docs/migrating.md).',
    ],
  },
  ERR_NO_SIGNATURE: {
    where: 'A webhook denial, CLI `verify` (exit 1).',
    check: [
      '`portcullis list IMAGE` (or `discover`): no Notary signature refers to the digest the tag names now. Signatures belong to a digest: a rebuilt or re-pushed image needs a new signature.',
      'A multi-architecture image is checked by its index digest: sign the index (notation signs what the tag names).',
      'A registry without the Referrers API keeps signatures under the `sha256-<digest>` tag: a copy that left it out lost them (`portcullis copy -r` keeps them).',
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
  ERR_REF_INVALID: {
    where: 'A webhook denial (in a namespace a policy covers), CLI commands taking a reference.',
    check: [
      'The image string is empty or not `[registry/]repository[:tag][@digest]`: lower-case repository, tag of at most 128 characters, a full digest.',
    ],
  },
  ERR_REF_AMBIGUOUS: {
    where: 'A webhook denial; a policy status when a registry scope is spelt that way.',
    check: [
      'The registry is spelt in a way the runtime may read as another host (`127.1`, `registry:443`, `registry-1.docker.io`): write the canonical form (docs/compatibility.md).',
    ],
  },
  ERR_REF_DIGEST_MISMATCH: {
    where: 'A webhook denial, CLI commands given `name:tag@digest`.',
    check: [
      'The tag now names another digest than the one written: the digest is what runs; drop the tag or update it.',
    ],
  },
  ERR_REGISTRY_UNREACHABLE: {
    where: 'A webhook answer decided by the failure policy, CLI commands.',
    check: [
      'From the server pod: DNS of the registry host (`dns.servers`, the pod resolv.conf), egress (NetworkPolicy `networkPolicy.egress`, proxies).',
      'A registry served over plain HTTP needs `registries.hosts.<host>.plainHttp: true` (CLI `--plain-http`).',
      'With `failurePolicy: Fail` the pod is denied, with `Ignore` admitted; the answer says which decided.',
    ],
  },
  ERR_REGISTRY_TLS: {
    where: 'A webhook answer decided by the failure policy, CLI commands.',
    check: [
      'A private CA: `registries.hosts.<host>.caFile` (mounted with `extraVolumes`), CLI `--registry-ca FILE`.',
      'The certificate must name the host the pod spec uses; `openssl s_client -connect host:443 -servername host` shows what it presents.',
    ],
  },
  ERR_REGISTRY_UNAUTHORIZED: {
    where: 'A webhook denial (the pod could not pull the image either), CLI commands.',
    check: [
      "The webhook uses the pod's `imagePullSecrets`, else its service account's, else `kubernetes.defaultPullSecret` / `registryCredentials.defaultDockerConfigSecret`: does one hold credentials for this registry?",
      'Token servers: the credentials need pull access to the repository; CLI: `portcullis login REGISTRY` checks them.',
    ],
  },
  ERR_REGISTRY_DENIED: {
    where: 'A webhook denial, CLI commands.',
    check: [
      'The credentials were accepted but may not read this repository (403): grant pull on it, including its signatures (referrers).',
    ],
  },
  ERR_REGISTRY_NOT_FOUND: {
    where: 'A webhook denial (the pod could not pull it either), CLI commands.',
    check: [
      'The repository or tag does not exist as written: `portcullis inspect IMAGE` or `docker manifest inspect`; check the registry host and path spelling.',
    ],
  },
  ERR_REGISTRY_TIMEOUT: {
    where: 'A webhook answer decided by the failure policy, CLI commands (`--timeout`).',
    check: [
      'The registry is slow or far: the metrics show registry request durations; the first verification of an image costs four requests.',
      'Raise `webhook.timeoutSeconds` (the chart keeps server and API server in step), or pre-warm by verifying new images before rollout.',
    ],
  },
  ERR_REGISTRY_RATE_LIMITED: {
    where: 'A webhook answer decided by the failure policy, CLI commands.',
    check: [
      'The registry answered 429 with a Retry-After longer than the deadline: Docker Hub limits anonymous pulls; use credentials with a higher limit.',
      'The caches (`cache.*`) keep results per digest: bursts of one image cost one verification.',
    ],
  },
  ERR_REGISTRY_UNAVAILABLE: {
    where: 'A webhook answer decided by the failure policy, CLI commands.',
    check: ["The registry answered 5xx through the retries: the registry's own status page or logs."],
  },
  ERR_REGISTRY_RESPONSE: {
    where: 'A webhook denial, CLI commands.',
    check: [
      'The registry broke the distribution spec (a missing Docker-Content-Digest, a wrong status): `--debug` shows the exchange with credentials masked.',
    ],
  },
  ERR_CREDENTIAL_HELPER: {
    where: 'CLI commands using the Docker config (`credHelpers`, `credsStore`).',
    check: [
      'Run `docker-credential-<name> get` by hand with the registry host on standard input; it must print JSON within the deadline.',
    ],
  },
  ERR_DEADLINE_EXCEEDED: {
    where: 'A webhook answer decided by the failure policy (the answer says so).',
    check: [
      "No verdict within the API server's timeout less `webhook.marginMilliseconds`: a slow registry, OCSP responder or TSA.",
      'The log line of the review and the metrics show where the time went; a second attempt is usually answered from the caches.',
    ],
  },
  ERR_REVIEW_TOO_MANY_REGISTRIES: {
    where: 'A webhook denial.',
    check: [
      'One pod or workload names images on more registries than `registries.maxHostsPerReview` (10): raise it if the workload is legitimate.',
    ],
  },
  ERR_REVIEW_TOO_MANY_IMAGES: {
    where: 'A webhook denial.',
    check: [
      'One review names more uncached images than `registries.maxImagesPerReview` (50): raise it if the workload is legitimate.',
    ],
  },
  ERR_UNSUPPORTED_KIND: {
    where: 'The server log (the request was allowed).',
    check: [
      "The webhook configuration sends something Portcullis does not check: compare its rules with the chart's (pods, pods/ephemeralcontainers and 7 workload kinds).",
    ],
  },
  ERR_ADMISSION_INVALID: {
    where: 'The HTTP answer (400) and the server log.',
    check: [
      'Something other than the API server or Gatekeeper posts to the webhook, or a proxy rewrites the body: AdmissionReview `admission.k8s.io/v1` or a Gatekeeper ProviderRequest is expected.',
    ],
  },
  ERR_BODY_TOO_LARGE: {
    where: 'The HTTP answer (413) and the server log.',
    check: [
      'A body over the limit (4 MiB by default, more than the API server sends for one object): find the caller.',
    ],
  },
  ERR_CLIENT_CERT_REQUIRED: {
    where: 'The HTTP answer (401), with `tls.clientCA` set.',
    check: [
      'The caller presented no certificate from the client CA: Gatekeeper must use the certificate of `gatekeeper-webhook-server-cert`; the API server sends none unless configured, so keep the webhooks off with client certificates.',
      'Prometheus scraping /metrics needs a client certificate too.',
    ],
  },
  ERR_KUBE_API: {
    where:
      '`portcullis audit` and `portcullis explain --kubeconfig` (exit 2); the server log of `serve` (background audit, PolicyReports, leader election, Events).',
    check: [
      "The message names the verb and resource: `kubectl auth can-i VERB RESOURCE --as system:serviceaccount:NS:SA` tells whether RBAC grants it (the chart's ClusterRole lists what the server uses).",
      "Outside the cluster: the kubeconfig's current context and its credentials (`kubectl --kubeconfig FILE get pods -A` must work).",
      'PolicyReports: the wgpolicyk8s.io CRDs must be installed (`kubectl get crd policyreports.wgpolicyk8s.io`; the chart installs them with `policyReports.installCRDs`).',
    ],
  },
  ERR_PORT_IN_USE: {
    where: '`portcullis serve` start-up (exit 2).',
    check: [
      'Another process listens on `--host`/`--port` (`ss -ltnp`); ports below 1024 need privileges (the chart uses 8443).',
    ],
  },
  ERR_TLS_FILE: {
    where: '`portcullis serve` start-up.',
    check: [
      '`--tls-cert` and `--tls-key` must be readable PEM files; in the chart, the Secret mounted at /tls (`certificates.*`, cert-manager).',
    ],
  },
  ERR_POLICY_DIR_UNREADABLE: {
    where: '`portcullis serve --policies DIR` start-up (later read errors keep the last good snapshot and are logged).',
    check: ['The directory exists, is a directory and is readable by the server user (65532 in the image).'],
  },
  ERR_KEY_NOT_FOUND: {
    where: 'CLI `sign -k NAME`, `key` commands.',
    check: ['`portcullis key list` shows the keys of signingkeys.json; without `-k` the default key (`*`) is used.'],
  },
  ERR_KEY_INVALID: {
    where: 'CLI `sign`, `key add`.',
    check: [
      'The key file and the certificate must belong together, be PEM, and be RSA or EC of a Notary size; the message says which.',
    ],
  },
  ERR_KEY_EXISTS: {
    where: 'CLI `key add`, `cert generate-test`.',
    check: ['Pick another name, or remove the old entry with `portcullis key delete NAME`.'],
  },
  ERR_PLUGIN_NOT_FOUND: {
    where: 'CLI `sign --plugin NAME`.',
    check: [
      'The plugin is `plugins/NAME/notation-NAME` in the configuration directory: a regular, executable file (not a symlink).',
    ],
  },
  ERR_PLUGIN_FAILED: {
    where:
      'CLI `sign --plugin NAME`; a webhook denial or CLI `verify` of a signature that names a verification plugin.',
    check: [
      "Run the plugin's `get-plugin-metadata` by hand; the message quotes what it printed. A plugin that hangs past its deadline (`plugins.timeoutSeconds`), crashes or prints more than 1 MiB or no valid JSON fails the signature.",
    ],
  },
  ERR_SIGNATURE_FILE_EXISTS: {
    where: 'CLI `blob sign`.',
    check: ['A signature file of that name is beside the blob already; `--force` replaces it.'],
  },
  ERR_TIMESTAMP_FAILED: {
    where: 'CLI `sign --timestamp-url`.',
    check: [
      'The TSA URL is reachable and answers RFC 3161 over HTTP; `--timestamp-root-cert` must be the root of its chain.',
    ],
  },
  ERR_POLICY_EXISTS: {
    where: 'CLI `policy init`, `policy import`.',
    check: ['`portcullis policy show` prints the policy in force; add `--force` to replace it.'],
  },
  ERR_CERT_NOT_FOUND: {
    where: 'CLI `cert show`, `cert delete`.',
    check: ['`portcullis cert list -t TYPE -s STORE` lists the file names of the store.'],
  },
  ERR_LAYOUT_INVALID: {
    where: 'CLI `--oci-layout` commands.',
    check: [
      'The directory must hold `oci-layout` and `index.json` and the blobs they name (`oras copy --to-oci-layout` writes one).',
    ],
  },
  ERR_LAYOUT_NOT_FOUND: {
    where: 'CLI `--oci-layout DIR:TAG`.',
    check: [
      'The tag is an `org.opencontainers.image.ref.name` annotation in `index.json`; use `DIR@sha256:…` for a digest.',
    ],
  },
  ERR_INTERNAL: {
    where: 'Anywhere; the webhook answers by its failure policy.',
    check: [
      'A bug. Run again with `--debug` (CLI) or `logging.level: debug` (server) and report the output with the version (`portcullis --version`).',
    ],
  },
};
