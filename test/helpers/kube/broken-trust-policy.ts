/**
 * A TrustPolicy `broken` in `namespace` whose statement names the trust store `ca:does-not-exist`:
 * accepted by the API server, invalid to Portcullis (status Invalid, a PolicyInvalid Event).
 */
export const brokenTrustPolicy = (namespace: string): string => `apiVersion: portcullis.dev/v1alpha1
kind: TrustPolicy
metadata: { name: broken, namespace: ${namespace} }
spec:
  version: "1.0"
  trustPolicies:
    - name: oops
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:does-not-exist"]
      trustedIdentities: ["*"]
`;
