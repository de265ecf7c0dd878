import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from './codes.js';
import { renderErrorsDoc } from './errors-doc.js';
import { PortcullisError, toPortcullisError } from './portcullis-error.js';

describe('error codes', () => {
  it('are documented in docs/errors.md exactly as the code table says', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
  });

  it('all follow the ERR_<AREA>_<CONDITION> shape', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
  });

  it('recognises known codes and refuses unknown ones', () => {
    expect(isErrorCode('ERR_CHAIN_UNTRUSTED')).toBe(true);
    expect(isErrorCode('ERR_NOPE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });
});

describe('PortcullisError', () => {
  it('keeps code, context and cause', () => {
    const cause = new Error('inner');
    const e = new PortcullisError('ERR_SIGNATURE_INVALID', 'bad', { cause, context: { digest: 'sha256:x' } });
    expect(e.code).toBe('ERR_SIGNATURE_INVALID');
    expect(e.cause).toBe(cause);
    expect(e.withContext({ policy: 'p', digest: 'sha256:other' }).context).toEqual({ policy: 'p', digest: 'sha256:x' });
  });

  it('wraps foreign errors with a fallback code and keeps typed ones', () => {
    const typed = new PortcullisError('ERR_NO_SIGNATURE', 'none');
    expect(toPortcullisError(typed, 'ERR_INTERNAL')).toBe(typed);
    const wrapped = toPortcullisError(new TypeError('boom'), 'ERR_INTERNAL', 'while parsing');
    expect(wrapped.code).toBe('ERR_INTERNAL');
    expect(wrapped.message).toBe('while parsing: boom');
  });
});
