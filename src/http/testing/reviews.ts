/** Builders for AdmissionReview bodies in tests and benchmarks. */

export interface ReviewOptions {
  readonly uid?: string;
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly namespace?: string;
  readonly subResource?: string;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

export function admissionReview(object: unknown, o: ReviewOptions = {}): Record<string, unknown> {
  const kind = o.kind ?? 'Pod';
  const resource = `${kind.toLowerCase()}s`;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: o.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: o.group ?? '', version: o.version ?? 'v1', kind },
      resource: { group: o.group ?? '', version: o.version ?? 'v1', resource },
      ...(o.subResource === undefined ? {} : { subResource: o.subResource }),
      requestKind: { group: o.group ?? '', version: o.version ?? 'v1', kind },
      name: 'demo',
      namespace: o.namespace ?? 'team-a',
      operation: o.operation ?? 'CREATE',
      userInfo: { username: 'admin', groups: ['system:authenticated'] },
      object,
      oldObject: o.oldObject ?? null,
      dryRun: o.dryRun ?? false,
      options: null,
    },
  };
}

export type Containers = readonly (readonly [name: string, image: string])[];

export interface PodSpecParts {
  readonly containers?: Containers;
  readonly initContainers?: Containers;
  readonly ephemeralContainers?: Containers;
  readonly imagePullSecrets?: readonly string[];
}

export function podSpec(parts: PodSpecParts): Record<string, unknown> {
  const list = (c: Containers | undefined) =>
    c?.map(([name, image]) => ({ name, image, imagePullPolicy: 'IfNotPresent' }));
  return {
    containers: list(parts.containers) ?? [],
    ...(parts.initContainers === undefined ? {} : { initContainers: list(parts.initContainers) }),
    ...(parts.ephemeralContainers === undefined ? {} : { ephemeralContainers: list(parts.ephemeralContainers) }),
    ...(parts.imagePullSecrets === undefined
      ? {}
      : { imagePullSecrets: parts.imagePullSecrets.map((name) => ({ name })) }),
    restartPolicy: 'Always',
  };
}

export function pod(parts: PodSpecParts, namespace = 'team-a'): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'demo', namespace }, spec: podSpec(parts) };
}

/** A workload object of `kind` with the pod spec at its template. */
export function workload(kind: string, apiVersion: string, parts: PodSpecParts): Record<string, unknown> {
  const template = { metadata: { labels: { app: 'demo' } }, spec: podSpec(parts) };
  const spec =
    kind === 'CronJob'
      ? { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } }
      : { replicas: 2, selector: { matchLabels: { app: 'demo' } }, template };
  return { apiVersion, kind, metadata: { name: 'demo', namespace: 'team-a' }, spec };
}
