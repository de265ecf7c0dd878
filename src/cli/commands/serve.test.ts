import { describe, expect, it } from 'vitest';
import { listeningAt } from './serve.js';

describe('the start-up line of portcullis serve', () => {
  it('names the wildcard a default --host listens on, not only the loopback URL', () => {
    expect(listeningAt('https://127.0.0.1:8443', '0.0.0.0')).toBe(
      'https://127.0.0.1:8443 and every other address of this machine (--host 0.0.0.0)',
    );
    expect(listeningAt('https://127.0.0.1:8443', '::')).toContain('every other address of this machine (--host ::)');
  });

  it('is the URL alone for one address', () => {
    expect(listeningAt('https://127.0.0.1:8443', '127.0.0.1')).toBe('https://127.0.0.1:8443');
  });
});
