import { NAMESPACE_NAME_LABEL, type LabelSelector } from '../policyset/index.js';
import { isObject, list, obj, strings, type Notes, type Obj } from './notes.js';

/**
 * The namespaces a Kyverno ClusterPolicy rule covers (`match` less `exclude`), as a
 * ClusterTrustPolicy namespaceSelector. Exact namespace names become `kubernetes.io/metadata.name`
 * In / NotIn requirements and a `namespaceSelector` is kept; what cannot be said about namespaces
 * (wildcard names, pod labels, resource names, users and roles) is left out, so the converted
 * policy covers more, never less, and a note says so. `undefined` = every namespace.
 */

type Requirement = NonNullable<LabelSelector['matchExpressions']>[number];

interface Constraint {
  /** Exact namespace names (In); undefined = no name constraint. */
  readonly names?: readonly string[];
  readonly requirements: readonly Requirement[];
}

const POD_KINDS = new Set([
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'ReplicationController',
]);

function filtersOf(block: Obj): { mode: 'any' | 'all'; filters: Obj[] } {
  if (Array.isArray(block['any'])) return { mode: 'any', filters: list(block['any']).filter(isObject) };
  if (Array.isArray(block['all'])) return { mode: 'all', filters: list(block['all']).filter(isObject) };
  // The older form: match.resources (+ subjects/roles) is one filter.
  return { mode: 'all', filters: Object.keys(block).length === 0 ? [] : [block] };
}

function selectorRequirements(value: unknown, what: string, subject: string, notes: Notes): Requirement[] {
  const selector = obj(value);
  const out: Requirement[] = [];
  for (const [key, v] of Object.entries(obj(selector['matchLabels']))) {
    if (typeof v === 'string') out.push({ key, operator: 'In', values: [v] });
  }
  for (const e of list(selector['matchExpressions'])) {
    const expression = obj(e);
    const operator = expression['operator'];
    if (
      typeof expression['key'] === 'string' &&
      (operator === 'In' || operator === 'NotIn' || operator === 'Exists' || operator === 'DoesNotExist')
    ) {
      const values = strings(expression['values']);
      out.push({
        key: expression['key'],
        operator,
        ...(operator === 'In' || operator === 'NotIn' ? { values } : {}),
      });
    } else notes.warn(subject, `${what}: a matchExpressions entry that is not a label requirement was left out`);
  }
  return out;
}

function constraintOf(filter: Obj, where: string, subject: string, notes: Notes): Constraint {
  const resources = obj(filter['resources']);
  for (const key of ['subjects', 'roles', 'clusterRoles']) {
    if (filter[key] !== undefined) notes.warn(subject, `${where}.${key} (who makes the request) is not carried over`);
  }
  for (const key of ['names', 'name', 'selector', 'annotations', 'operations']) {
    if (resources[key] !== undefined) {
      notes.warn(
        subject,
        `${where}.resources.${key} is not carried over: the policy covers every pod of the namespaces`,
      );
    }
  }
  const kinds = strings(resources['kinds']);
  if (kinds.length > 0 && !kinds.some((k) => POD_KINDS.has(k.split('/').pop() ?? k))) {
    notes.info(
      subject,
      `${where}.resources.kinds ${kinds.join(', ')}: Portcullis checks pods and the pod templates of workloads`,
    );
  }
  const requirements =
    resources['namespaceSelector'] === undefined
      ? []
      : selectorRequirements(resources['namespaceSelector'], `${where}.resources.namespaceSelector`, subject, notes);
  const names = strings(resources['namespaces']);
  if (names.some((n) => /[*?]/.test(n))) {
    notes.warn(
      subject,
      `${where}.resources.namespaces ${names.join(', ')} has wildcards, which a label selector cannot say: left out, so the policy covers every namespace`,
    );
    return { requirements };
  }
  return names.length > 0 ? { names, requirements } : { requirements };
}

export function namespaceSelectorOf(ruleValue: Obj, subject: string, notes: Notes): LabelSelector | undefined {
  const requirements: Requirement[] = [];
  const match = filtersOf(obj(ruleValue['match']));
  const constraints = match.filters.map((f, i) => constraintOf(f, `match.${match.mode}[${i}]`, subject, notes));
  const unconstrained = (c: Constraint) => c.names === undefined && c.requirements.length === 0;
  if (match.mode === 'all') {
    let names: string[] | undefined;
    for (const c of constraints) {
      if (c.names !== undefined) names = names === undefined ? [...c.names] : names.filter((n) => c.names?.includes(n));
      requirements.push(...c.requirements);
    }
    if (names !== undefined) requirements.push({ key: NAMESPACE_NAME_LABEL, operator: 'In', values: names });
  } else if (constraints.length > 0 && !constraints.some(unconstrained)) {
    if (constraints.every((c) => c.requirements.length === 0)) {
      const names = [...new Set(constraints.flatMap((c) => c.names ?? []))];
      requirements.push({ key: NAMESPACE_NAME_LABEL, operator: 'In', values: names });
    } else if (constraints.length === 1) {
      const only = constraints[0] as Constraint;
      requirements.push(...only.requirements);
      if (only.names !== undefined)
        requirements.push({ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...only.names] });
    } else {
      notes.warn(
        subject,
        'match.any mixes namespaceSelectors, which one label selector cannot OR: left out, so the policy covers every namespace',
      );
    }
  }

  const exclude = filtersOf(obj(ruleValue['exclude']));
  const excluded: string[] = [];
  exclude.filters.forEach((filter, i) => {
    const where = `exclude.${exclude.mode}[${i}]`;
    const resources = obj(filter['resources']);
    const names = strings(resources['namespaces']);
    const onlyNamespaces =
      names.length > 0 &&
      !names.some((n) => /[*?]/.test(n)) &&
      Object.keys(resources).every((k) => k === 'namespaces' || k === 'kinds') &&
      Object.keys(filter).every((k) => k === 'resources');
    if (onlyNamespaces && (exclude.mode === 'any' || exclude.filters.length === 1)) excluded.push(...names);
    else
      notes.warn(
        subject,
        `${where} is not carried over (only exact namespace names can be left out): the policy covers more`,
      );
  });
  if (excluded.length > 0) {
    requirements.push({ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: [...new Set(excluded)] });
  }
  return requirements.length === 0 ? undefined : { matchExpressions: requirements };
}

/** A LabelSelector written by the user (ImageValidatingPolicy matchConstraints.namespaceSelector), re-checked. */
export function copySelector(value: unknown, what: string, subject: string, notes: Notes): LabelSelector | undefined {
  const requirements = selectorRequirements(value, what, subject, notes);
  return requirements.length === 0 ? undefined : { matchExpressions: requirements };
}
