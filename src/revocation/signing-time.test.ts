import { describe, expect, it } from 'vitest';
import { applySigningTime } from './checker-types.js';

describe('revocation against the authentic signing time', () => {
  const signed = new Date('2026-06-01T00:00:00Z');

  it('lets a signature made before its certificate was revoked stand', () => {
    const r = applySigningTime({ status: 'revoked', revokedAt: new Date('2026-07-01T00:00:00Z') }, signed);
    expect(r.status).toBe('good');
  });

  it('keeps a revocation that took effect before the signing time', () => {
    const r = applySigningTime({ status: 'revoked', revokedAt: new Date('2026-05-01T00:00:00Z') }, signed);
    expect(r.status).toBe('revoked');
  });

  it('keeps a revocation whose date cannot be read (never turned into "good")', () => {
    const r = applySigningTime({ status: 'revoked', revokedAt: new Date(Number.NaN) }, signed);
    expect(r.status).toBe('revoked');
  });

  it('keeps a revocation without a date', () => {
    expect(applySigningTime({ status: 'revoked' }, signed).status).toBe('revoked');
  });
});
