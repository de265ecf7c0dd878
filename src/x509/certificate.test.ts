import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPortcullisError } from '../errors/index.js';
import { parseCertificateFile } from './certificate.js';

const X509 = path.resolve(import.meta.dirname, '../../../shared/vectors/notation-core-go/x509');
const read = (file: string): Uint8Array => new Uint8Array(readFileSync(path.join(X509, file)));

describe('certificate files (C2)', () => {
  it.each([
    ['pem.crt', 1],
    ['multi-pem.crt', 2],
    ['der.der', 1],
    ['multi-der.der', 2],
  ])('reads %s as %i certificate(s)', (file, count) => {
    expect(parseCertificateFile(read(file))).toHaveLength(count);
  });

  it('reads the same certificates from PEM and from DER', () => {
    const pem = parseCertificateFile(read('multi-pem.crt')).map((c) => c.sha256);
    const der = parseCertificateFile(read('multi-der.der')).map((c) => c.sha256);
    expect(der).toEqual(pem);
  });

  it('rejects a file that holds no certificate', () => {
    let thrown: unknown;
    try {
      parseCertificateFile(read('invalid'));
    } catch (e) {
      thrown = e;
    }
    expect(isPortcullisError(thrown) && thrown.code).toBe('ERR_CERT_MALFORMED');
  });
});
