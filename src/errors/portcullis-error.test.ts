import { describe, expect, it, vi } from 'vitest';
import { PortcullisError, isPortcullisError, toPortcullisError } from './portcullis-error.js';

describe('PortcullisError', () => {
  it('is recognised when another copy of the module made it (the CLI bundles each carry one)', async () => {
    vi.resetModules();
    const copy = await import('./portcullis-error.js');
    expect(copy.PortcullisError).not.toBe(PortcullisError);
    const foreign = new copy.PortcullisError('ERR_POLICY_NOT_FOUND', 'no trust policy found');
    expect(foreign instanceof PortcullisError).toBe(true);
    expect(isPortcullisError(foreign)).toBe(true);
    expect(toPortcullisError(foreign, 'ERR_INTERNAL').code).toBe('ERR_POLICY_NOT_FOUND');
  });

  it('is not claimed by look-alikes: a plain Error, or an object with a code', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'ERR_POLICY_NOT_FOUND', context: {} });
    expect(lookalike instanceof PortcullisError).toBe(false);
    expect(toPortcullisError(lookalike, 'ERR_INTERNAL').code).toBe('ERR_INTERNAL');
    expect((null as unknown) instanceof PortcullisError).toBe(false);
  });

  it('keeps the ordinary check for subclasses', () => {
    class Special extends PortcullisError {}
    expect(new PortcullisError('ERR_INTERNAL', 'x') instanceof Special).toBe(false);
    expect(new Special('ERR_INTERNAL', 'x') instanceof Special).toBe(true);
    expect(new Special('ERR_INTERNAL', 'x') instanceof PortcullisError).toBe(true);
  });
});
