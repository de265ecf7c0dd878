import { describe, expect, it } from 'vitest';
import { parseManifests } from './manifests.js';

describe('manifest files', () => {
  it('reads every document of a multi-document YAML file, skipping empty ones', () => {
    const result = parseManifests('---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n');
    expect(result).toEqual({ objects: [{ a: 1 }, { b: 2 }] });
  });

  it('flattens kind: List (and nested lists)', () => {
    const text = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ kind: 'A' }, { kind: 'List', items: [{ kind: 'B' }] }],
    });
    expect(parseManifests(text)).toEqual({ objects: [{ kind: 'A' }, { kind: 'B' }] });
  });

  it('an empty file has no objects', () => {
    expect(parseManifests('')).toEqual({ objects: [] });
  });

  it('duplicate keys are an error, and so is any YAML error anywhere in the file', () => {
    expect(parseManifests('a: 1\na: 2\n')).toMatchObject({ error: expect.stringContaining('document 1') });
    expect(parseManifests('a: 1\n---\nb: [\n')).toMatchObject({ error: expect.stringContaining('document 2') });
    expect(parseManifests('{"a": 1, "a": 2}')).toHaveProperty('error');
  });

  it('a YAML error is one line naming where it is, without the colon that introduced the dropped excerpt', () => {
    const result = parseManifests('a:\n  b: |-\n x: y\n  c: d\n');
    expect(result).toHaveProperty('error');
    const error = (result as { error: string }).error;
    expect(error).toMatch(/^not valid YAML \(document 1\): .* at line \d+, column \d+$/);
  });

  it('an alias bomb is refused', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 30; i++)
      lines.push(
        `${String.fromCharCode(98 + (i % 20))}${i}: &n${i} [${Array(10)
          .fill(i === 0 ? '*a' : `*n${i - 1}`)
          .join(', ')}]`,
      );
    expect(parseManifests(lines.join('\n'))).toHaveProperty('error');
  });
});
