import { describe, expect, it } from 'vitest';
import { denialMessage, explainHint, limitWarnings } from './messages.js';

describe('limitWarnings', () => {
  it('drops duplicates and control characters', () => {
    expect(limitWarnings(['a\u0007b', 'a\u0007b', 'tab\there'])).toEqual(['a b', 'tab here']);
  });

  it('keeps a trailing code when it cuts (the cut falls on the text before it)', () => {
    const [w] = limitWarnings([`${'x'.repeat(400)} [ERR_UNSUPPORTED_KIND]`]);
    expect(Array.from(w as string)).toHaveLength(256);
    expect(w).toMatch(/x… \[ERR_UNSUPPORTED_KIND\]$/);
  });

  it('cuts by runes, not UTF-16 units', () => {
    const [w] = limitWarnings(['🔐'.repeat(300)]);
    expect(Array.from(w as string)).toHaveLength(256);
    expect(w?.endsWith('…')).toBe(true);
  });
});

describe('denialMessage', () => {
  it('bounds a pathological message', () => {
    const text = denialMessage(Array.from({ length: 1000 }, (_, i) => `line ${i} ${'x'.repeat(100)}`));
    expect(text.length).toBeLessThanOrEqual(16 * 1024);
    expect(text).toMatch(/truncated; see the Portcullis log\)$/);
  });
});

describe('the explain hint that ends a denial', () => {
  it('names the namespace and the image when both are plain reference characters', () => {
    expect(explainHint('team-a', 'registry.example/app@sha256:ab')).toBe(
      'to see why: portcullis explain --namespace team-a --image registry.example/app@sha256:ab',
    );
  });

  it.each(['r/a:1; rm -rf ~', 'r/a:$(id)', '--policies=/tmp/x', "r/a'b", 'r/a\nb', '', 'x'.repeat(301)])(
    'never repeats a hostile image string %j (a person may paste the line into a shell)',
    (image) => {
      expect(explainHint('team-a', image)).toBe('to see why: portcullis explain --namespace team-a -f POD.yaml');
    },
  );

  it('stays the last line when the message is truncated', () => {
    const hint = explainHint('team-a', 'r/a:1');
    const message = denialMessage(['x'.repeat(20_000)], hint);
    expect(message.length).toBeLessThanOrEqual(16 * 1024);
    expect(message.endsWith(`(truncated; see the Portcullis log)\n${hint}`)).toBe(true);
  });
});
