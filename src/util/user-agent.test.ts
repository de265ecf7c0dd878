import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { USER_AGENT } from './user-agent.js';

describe('USER_AGENT', () => {
  it('names the version package.json declares', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(USER_AGENT).toBe(`portcullis/${version}`);
  });
});
