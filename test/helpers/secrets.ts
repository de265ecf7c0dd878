/** Base64 of a string, as Secrets carry their data. */
export const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A `kubernetes.io/dockerconfigjson` Secret with these `auths`. */
export const dockerSecret = (
  ns: string,
  name: string,
  auths: Record<string, unknown>,
  resourceVersion?: string,
): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'kubernetes.io/dockerconfigjson',
  metadata: { name, namespace: ns, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
});
