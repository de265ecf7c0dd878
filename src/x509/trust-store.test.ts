import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CertificateCache, parseCertificateFile, type Certificate } from './certificate.js';
import {
  buildTrustStore,
  chainContainsTrustedCertificate,
  type TrustStoreFile,
  type TrustStoreType,
} from './trust-store.js';
import { expectFailure } from '../../test/helpers/errors.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const STORES = path.join(VECTORS, 'notation-go/truststore/x509');

/** Reads a store directory the way notation does (sorted file names), for buildTrustStore. */
function storeFiles(type: TrustStoreType, name: string): TrustStoreFile[] {
  const dir = path.join(STORES, type, name);
  return readdirSync(dir)
    .sort()
    .map((file) => ({ name: file, bytes: new Uint8Array(readFileSync(path.join(dir, file))) }));
}

function load(type: TrustStoreType, name: string): Certificate[] {
  return buildTrustStore(type, name, storeFiles(type, name));
}

describe('trust store loading: notation-go vectors (B17)', () => {
  it('loads a ca store of PEM and DER files, including self-signed non-CA certificates (B17-1)', () => {
    const certs = load('ca', 'valid-trust-store');
    expect(certs.length).toBeGreaterThanOrEqual(storeFiles('ca', 'valid-trust-store').length);
    expect(certs.map((c) => c.subject)).toContain('CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US');
  });

  it('loads a store holding one minimal self-signed certificate (B17-2)', () => {
    expect(load('ca', 'valid-trust-store-self-signed')).toHaveLength(1);
  });

  it('rejects a store with a file that is not a certificate (B17-3)', () => {
    expectFailure(
      () => load('ca', 'trust-store-with-invalid-certs'),
      'ERR_TRUSTSTORE_INVALID',
      'failed to read the trusted certificate invalid in trust store trust-store-with-invalid-certs of type ca',
    );
  });

  it('rejects a ca store holding a leaf that is neither a CA nor self-signed (B17-4)', () => {
    expectFailure(
      () => load('ca', 'trust-store-with-leaf-certs'),
      'ERR_TRUSTSTORE_INVALID',
      'failed to validate the trusted certificate non-ca.crt in trust store trust-store-with-leaf-certs of type ca: certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed signing certificate',
    );
  });

  it('loads a tsa store holding a root CA in DER (B17-5, B17-8)', () => {
    const certs = load('tsa', 'test-timestamp');
    expect(certs).toHaveLength(1);
    expect(certs[0]?.basicConstraints?.ca).toBe(true);
  });

  it('rejects a tsa store holding a self-signed certificate that is not a CA (B17-6)', () => {
    expectFailure(
      () => load('tsa', 'test-nonCA'),
      'ERR_TRUSTSTORE_INVALID',
      'trusted certificate wabbit-networks.io.crt in trust store test-nonCA of type tsa is invalid: certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate',
    );
  });

  it('accepts the same self-signed certificate in a ca store', () => {
    expect(buildTrustStore('ca', 'test-nonCA', storeFiles('tsa', 'test-nonCA'))).toHaveLength(1);
  });

  it('loads signingAuthority stores and the second ca store (B17-7)', () => {
    expect(load('signingAuthority', 'valid-trust-store').length).toBeGreaterThanOrEqual(3);
    expect(load('signingAuthority', 'valid-trust-store-2').length).toBeGreaterThanOrEqual(2);
    expect(load('ca', 'valid-trust-store-2').length).toBeGreaterThanOrEqual(2);
  });

  it('loads the DigiCert root as a valid tsa store (B17-9)', () => {
    expect(load('tsa', 'test-mismatch')).toHaveLength(1);
  });

  it('parses through a given certificate cache', () => {
    const cache = new CertificateCache();
    const first = buildTrustStore('ca', 'valid-trust-store', storeFiles('ca', 'valid-trust-store'), cache);
    const again = buildTrustStore(
      'signingAuthority',
      'valid-trust-store',
      storeFiles('ca', 'valid-trust-store'),
      cache,
    );
    expect(again[0]).toBe(first[0]);
  });
});

describe('trust store rules', () => {
  const oneFile = (): TrustStoreFile[] => storeFiles('ca', 'valid-trust-store-self-signed');

  it.each(['', 'a/b', '..\\x', 'name with space', 'ünïcode'])('rejects the store name %j', (name) => {
    expectFailure(
      () => buildTrustStore('ca', name, oneFile()),
      'ERR_TRUSTSTORE_INVALID',
      'trust store name needs to follow [a-zA-Z0-9_.-]+ format',
    );
  });

  it('accepts names made of letters, digits, dot, dash and underscore', () => {
    expect(buildTrustStore('ca', 'My_store-1.0', oneFile())).toHaveLength(1);
  });

  it('rejects an empty store', () => {
    expectFailure(
      () => buildTrustStore('ca', 'empty', []),
      'ERR_TRUSTSTORE_INVALID',
      'no x509 certificates were found in trust store "empty" of type "ca"',
    );
  });

  it('rejects an empty file in a store', () => {
    expectFailure(
      () => buildTrustStore('signingAuthority', 's', [{ name: 'empty.pem', bytes: new Uint8Array() }]),
      'ERR_TRUSTSTORE_INVALID',
      'failed to read the trusted certificate empty.pem in trust store s of type signingAuthority',
    );
  });
});

describe('trust anchoring by byte equality (§15.11)', () => {
  const certsOf = (file: string): Certificate[] =>
    parseCertificateFile(readFileSync(path.join(VECTORS, 'notation-core-go/x509', file)));
  const [leaf, intermediate, root] = ['timestamp_leaf.crt', 'timestamp_intermediate.crt', 'timestamp_root.crt'].map(
    (f) => certsOf(f)[0] as Certificate,
  ) as [Certificate, Certificate, Certificate];
  const chain = [leaf, intermediate, root];

  it('finds the root of the chain in the store', () => {
    expect(chainContainsTrustedCertificate(chain, [root])).toBe(root);
  });

  it('finds a pinned intermediate or leaf', () => {
    expect(chainContainsTrustedCertificate(chain, [intermediate])).toBe(intermediate);
    expect(chainContainsTrustedCertificate(chain, [root, leaf])).toBe(leaf);
  });

  it('finds nothing when no certificate is byte-equal, even with equal subjects', () => {
    const other = certsOf('pem.crt');
    expect(chainContainsTrustedCertificate(chain, other)).toBeUndefined();
    expect(chainContainsTrustedCertificate(chain, [])).toBeUndefined();
  });
});
