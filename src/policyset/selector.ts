import type { LabelSelector } from './types.js';

/**
 * metav1.LabelSelector, the subset Portcullis supports: matchLabels and matchExpressions with
 * In / NotIn / Exists / DoesNotExist. Semantics are Kubernetes' (LabelSelectorAsSelector): all
 * requirements must hold; an empty selector `{}` matches every set of labels; NotIn and
 * DoesNotExist hold when the key is absent.
 */

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a selector as written (YAML or API object). Returns the typed selector or a reason. */
export function parseLabelSelector(value: unknown, where: string): { selector: LabelSelector } | { error: string } {
  if (!isRecord(value)) return { error: `${where} must be an object` };
  for (const key of Object.keys(value)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions')
      return { error: `${where} has unknown field ${JSON.stringify(key)}` };
  }
  let matchLabels: Record<string, string> | undefined;
  const labels = value['matchLabels'];
  if (labels !== undefined && labels !== null) {
    if (!isRecord(labels)) return { error: `${where}.matchLabels must be a map of strings` };
    matchLabels = {};
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string')
        return { error: `${where}.matchLabels.${k} must be a string (quote values such as "true")` };
      matchLabels[k] = v;
    }
    Object.freeze(matchLabels);
  }
  type Expression = NonNullable<LabelSelector['matchExpressions']>[number];
  let matchExpressions: Expression[] | undefined;
  const expressions = value['matchExpressions'];
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions)) return { error: `${where}.matchExpressions must be a list` };
    matchExpressions = [];
    for (const [i, item] of expressions.entries()) {
      const at = `${where}.matchExpressions[${i}]`;
      if (!isRecord(item)) return { error: `${at} must be an object` };
      for (const key of Object.keys(item)) {
        if (key !== 'key' && key !== 'operator' && key !== 'values')
          return { error: `${at} has unknown field ${JSON.stringify(key)}` };
      }
      const { key, operator, values } = item;
      if (typeof key !== 'string' || key === '') return { error: `${at}.key must be a non-empty string` };
      if (typeof operator !== 'string' || !OPERATORS.has(operator)) {
        return { error: `${at}.operator ${JSON.stringify(operator)} is not one of In, NotIn, Exists, DoesNotExist` };
      }
      const op = operator as Expression['operator'];
      const list = values === undefined || values === null ? [] : values;
      if (!Array.isArray(list) || list.some((v) => typeof v !== 'string'))
        return { error: `${at}.values must be a list of strings` };
      if ((op === 'In' || op === 'NotIn') && list.length === 0)
        return { error: `${at}: operator ${op} needs at least one value` };
      if ((op === 'Exists' || op === 'DoesNotExist') && list.length > 0)
        return { error: `${at}: operator ${op} takes no values` };
      matchExpressions.push(
        Object.freeze(
          op === 'In' || op === 'NotIn'
            ? { key, operator: op, values: Object.freeze([...(list as string[])]) }
            : { key, operator: op },
        ),
      );
    }
    Object.freeze(matchExpressions);
  }
  return {
    selector: Object.freeze({
      ...(matchLabels === undefined ? {} : { matchLabels }),
      ...(matchExpressions === undefined ? {} : { matchExpressions }),
    }),
  };
}

/** Whether `labels` satisfy every requirement of the selector. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (key: string): boolean => Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    switch (operator) {
      case 'In':
        if (!has(key) || !values.includes(labels[key] as string)) return false;
        break;
      case 'NotIn':
        if (has(key) && values.includes(labels[key] as string)) return false;
        break;
      case 'Exists':
        if (!has(key)) return false;
        break;
      case 'DoesNotExist':
        if (has(key)) return false;
        break;
    }
  }
  return true;
}
