import { writeFileSync } from 'node:fs';
import { EXT, Pki } from '../pki.js';

/** A CA and a serving certificate for 127.0.0.1/localhost, written as PEM files in a fresh Pki dir. */
export interface ServerTls {
  readonly pki: Pki;
  readonly caPem: string;
  readonly caFile: string;
  readonly certPem: string;
  readonly certFile: string;
  readonly keyPem: string;
  readonly keyFile: string;
}

const SERVER_LEAF = EXT.serverLeaf;

/** Caller owns the result: `tls.pki.cleanup()` removes every file. */
export function serverTls(name: string): ServerTls {
  const pki = new Pki();
  const ca = pki.issue({ subject: `/O=Portcullis Test/CN=${name} CA`, key: 'ec-256', extensions: EXT.root });
  const leaf = pki.issue({
    subject: `/O=Portcullis Test/CN=${name}`,
    key: 'ec-256',
    issuer: ca,
    extensions: SERVER_LEAF,
  });
  const caFile = pki.file('serving-ca.pem');
  const certFile = pki.file('serving-cert.pem');
  const keyFile = pki.file('serving-key.pem');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(certFile, leaf.certPem);
  writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
  return { pki, caPem: ca.certPem, caFile, certPem: leaf.certPem, certFile, keyPem: leaf.keyPem, keyFile };
}
