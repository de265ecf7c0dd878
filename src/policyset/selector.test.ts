import { describe, expect, it } from 'vitest';
import { matchesSelector, parseLabelSelector } from './selector.js';
import type { LabelSelector } from './types.js';

function parse(value: unknown): LabelSelector {
  const result = parseLabelSelector(value, 'sel');
  if ('error' in result) throw new Error(result.error);
  return result.selector;
}
const error = (value: unknown): string | undefined => {
  const result = parseLabelSelector(value, 'sel');
  return 'error' in result ? result.error : undefined;
};

describe('label selectors (metav1.LabelSelector semantics)', () => {
  it('an empty selector matches every namespace', () => {
    expect(matchesSelector(parse({}), {})).toBe(true);
    expect(matchesSelector(parse({ matchLabels: null, matchExpressions: [] }), { a: 'b' })).toBe(true);
  });

  it('matchLabels needs every label with the same value', () => {
    const selector = parse({ matchLabels: { a: '1', b: '2' } });
    expect(matchesSelector(selector, { a: '1', b: '2', c: '3' })).toBe(true);
    expect(matchesSelector(selector, { a: '1' })).toBe(false);
    expect(matchesSelector(selector, { a: '1', b: '3' })).toBe(false);
  });

  it('In, NotIn, Exists and DoesNotExist follow Kubernetes (NotIn and DoesNotExist hold for an absent key)', () => {
    const m = (operator: string, labels: Record<string, string>, values?: string[]): boolean =>
      matchesSelector(
        parse({ matchExpressions: [{ key: 'k', operator, ...(values === undefined ? {} : { values }) }] }),
        labels,
      );
    expect([m('In', { k: 'a' }, ['a', 'b']), m('In', { k: 'c' }, ['a']), m('In', {}, ['a'])]).toEqual([
      true,
      false,
      false,
    ]);
    expect([m('NotIn', { k: 'a' }, ['a']), m('NotIn', { k: 'c' }, ['a']), m('NotIn', {}, ['a'])]).toEqual([
      false,
      true,
      true,
    ]);
    expect([m('Exists', { k: '' }), m('Exists', {})]).toEqual([true, false]);
    expect([m('DoesNotExist', { k: 'x' }), m('DoesNotExist', {})]).toEqual([false, true]);
  });

  it('labels inherited from Object.prototype do not count', () => {
    expect(matchesSelector(parse({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }), {})).toBe(false);
  });

  it('rejects unknown operators, misplaced values, unknown fields and non-string labels', () => {
    expect(error({ matchExpressions: [{ key: 'k', operator: 'Equals', values: ['a'] }] })).toContain(
      'operator "Equals" is not one of',
    );
    expect(error({ matchExpressions: [{ key: 'k', operator: 'In' }] })).toContain(
      'operator In needs at least one value',
    );
    expect(error({ matchExpressions: [{ key: 'k', operator: 'Exists', values: ['a'] }] })).toContain(
      'operator Exists takes no values',
    );
    expect(error({ matchExpressions: [{ key: '', operator: 'Exists' }] })).toContain('key must be a non-empty string');
    expect(error({ matchExpressions: [{ key: 'k', operator: 'Exists', value: 'a' }] })).toContain(
      'unknown field "value"',
    );
    expect(error({ matchLabel: { a: 'b' } })).toContain('unknown field "matchLabel"');
    expect(error({ matchLabels: { a: true } })).toContain('sel.matchLabels.a must be a string');
    expect(error('env=prod')).toBe('sel must be an object');
  });
});
