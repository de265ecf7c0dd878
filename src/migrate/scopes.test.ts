import { describe, expect, it } from 'vitest';
import { patternToScope, patternsToScopes } from './scopes.js';

describe('image patterns as Notary registry scopes', () => {
  it.each([
    ['*', '*'],
    ['registry.example/app', 'registry.example/app'],
    ['registry.example/app:*', 'registry.example/app'],
    ['registry.example/app@*', 'registry.example/app'],
    ['LOCALHOST:05000/app:*', 'localhost:5000/app'],
    ['nginx:*', 'docker.io/library/nginx'],
  ])('%s names the repository %s', (pattern, scope) => {
    expect(patternToScope(pattern)).toEqual({ scope });
  });

  it('keeps the repository of a pattern naming one tag, and says every tag is now covered', () => {
    const r = patternToScope('registry.example/app:v1');
    expect(r).toMatchObject({ scope: 'registry.example/app' });
    expect((r as { note: string }).note).toContain('every tag of registry.example/app');
  });

  it.each(['ghcr.io/kyverno/test-verify-image*', 'registry.example/*', '*.example.org', 'registry.example/a?p'])(
    'widens the glob %s to * (more images need a signature, never fewer)',
    (pattern) => {
      const r = patternToScope(pattern);
      expect(r).toMatchObject({ widened: true });
      expect((r as { note: string }).note).toContain('widened to *');
    },
  );

  it('widens what is not an image reference', () => {
    expect(patternToScope('Not A Reference')).toMatchObject({ widened: true });
  });

  it('gives * for a list as soon as one pattern is widened', () => {
    expect(patternsToScopes(['registry.example/a', 'registry.example/b:*']).scopes).toEqual([
      'registry.example/a',
      'registry.example/b',
    ]);
    const mixed = patternsToScopes(['registry.example/a', 'registry.example/tools/*']);
    expect(mixed.scopes).toEqual(['*']);
    expect(mixed.notes).toHaveLength(1);
  });
});
