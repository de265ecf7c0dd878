import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './codes.js';
import { renderTroubleshootingDoc } from './troubleshooting-doc.js';
import { GUIDANCE, SECTIONS } from './troubleshooting.js';

describe('docs/troubleshooting.md', () => {
  it('is what the code table and the guidance render (npm run docs:errors)', () => {
    const doc = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderTroubleshootingDoc());
  });

  it('lists every error code exactly once, in one section', () => {
    const listed = SECTIONS.flatMap((s) => s.codes);
    expect([...listed].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('has guidance for every code: where it is met and at least one thing to check', () => {
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      const g = GUIDANCE[code];
      expect(g.where.length, code).toBeGreaterThan(5);
      expect(g.check.length, code).toBeGreaterThan(0);
      for (const line of g.check) expect(line.trim().length, code).toBeGreaterThan(10);
    }
    expect(Object.keys(GUIDANCE).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('gives each code its heading, meaning and remedy', () => {
    const doc = renderTroubleshootingDoc();
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      const at = doc.indexOf(`### ${code}\n`);
      expect(at, code).toBeGreaterThan(0);
      const section = doc.slice(at, doc.indexOf('\n### ', at + 1) === -1 ? undefined : doc.indexOf('\n### ', at + 1));
      expect(section).toContain(`**Means:** ${info.summary}`);
      expect(section).toContain(`**Do:** ${info.remedy}`);
    }
  });
});
