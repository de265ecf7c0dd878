import type { ErrorCode } from './codes.js';
import type { Guidance } from './troubleshooting.js';
import type { VERIFICATION_GUIDANCE } from './troubleshooting-verification.js';

/**
 * Guidance for every other code: input, policies, references, registries, the webhook, the CLI.
 * Typed over the codes VERIFICATION_GUIDANCE leaves, so a code without guidance is a type error.
 */
export const OPERATIONS_GUIDANCE: Readonly<Record<Exclude<ErrorCode, keyof typeof VERIFICATION_GUIDANCE>, Guidance>> = {
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
  ERR_DOWNLOAD_BUDGET: {
    where:
      'A webhook denial (never the failure policy: memory pressure must not admit), under a burst of cold reviews.',
    check: [
      'Many reviews were downloading large manifests or signatures at once (a hostile registry can serve 4 MiB manifests): the registry hosts in the review log lines and `portcullis_registry_requests_total` show which; raise `registries.maxBufferedBytes` only with the pod memory limit.',
      "The message says whose share was full: a registry at its share (`registries.maxBufferedBytesPerRegistry`, half the budget by default) delays only its own images, so a hostile or slow registry cannot make other registries' images wait; if it is a busy, trusted registry, raise its share.",
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
      "Run the plugin's `get-plugin-metadata` by hand; the message quotes what it printed. A plugin that prints more than 1 MiB or no valid JSON, breaks the contract or reports an error of its own (VALIDATION_ERROR, ACCESS_DENIED, ERROR) fails the signature.",
    ],
  },
  ERR_PLUGIN_UNAVAILABLE: {
    where:
      'A webhook answer decided by the failure policy (never cached: the next review asks the plugin again); CLI `verify` of a signature that names a verification plugin.',
    check: [
      "The plugin hung past its deadline (`plugins.timeoutSeconds`), was killed by a signal (out of memory?), exited non-zero without the contract's error object (a panic), could not be started, reported TIMEOUT/THROTTLED, or every plugin slot (`plugins.maxConcurrent`) stayed busy: run it by hand with the request on stdin, and watch the webhook's CPU and memory limits.",
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
