import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXT, Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { makeArtifact, payloadFor, verifyEnvelopeFor } from '../../test/helpers/signed.js';
import { TsaServer } from '../../test/helpers/tsa-server.js';
import { TestTsa } from '../../test/helpers/tsa.js';
import { parseEnvelope } from '../envelope/index.js';
import type { SignRequest } from '../envelope/types.js';
import { PortcullisError } from '../errors/index.js';
import type { ArtifactVerification } from '../verify/index.js';
import { parseCertificate } from '../x509/certificate.js';
import { LocalKeySigner, signerForKey, type SignResult } from './signer.js';
import { TimestampClient } from './timestamp-client.js';

const DAY = 86_400_000;
const artifact = makeArtifact('local-signer');

function request(extra: Partial<SignRequest> = {}): SignRequest {
  return {
    payload: payloadFor(artifact.descriptor),
    signingTime: new Date(Date.now() - 60_000),
    signingAgent: 'portcullis-test',
    ...extra,
  };
}

/** Verifies a signer's result with the core, trusting `ca` (and `tsa` roots when given). */
function verifyResult(result: SignResult, ca: Uint8Array, tsa?: Uint8Array): Promise<ArtifactVerification> {
  return verifyEnvelopeFor(artifact.descriptor, result, ca, tsa);
}

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<PortcullisError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a failure');
}

describe('LocalKeySigner', () => {
  const pki = new Pki();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-signer-'));
  let rsa: CodeSigningChain;
  let ec: CodeSigningChain;
  let tsa: TestTsa;
  let server: TsaServer;
  const chainPem = (c: CodeSigningChain) => c.leaf.certPem + c.intermediate.certPem + c.root.certPem;
  const signerOf = (c: CodeSigningChain, timestampClient?: TimestampClient) =>
    LocalKeySigner.fromPem(
      c.leaf.keyPem,
      new Uint8Array(Buffer.from(chainPem(c))),
      timestampClient === undefined ? {} : { timestampClient },
    );

  beforeAll(async () => {
    rsa = codeSigningChain(pki, { leafKey: 'rsa-3072', name: 'Local RSA' });
    ec = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Local EC' });
    tsa = new TestTsa({ pki });
    server = await TsaServer.start(tsa);
  });
  afterAll(async () => {
    await server.close();
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['jws', 'cose'] as const)('signs %s envelopes with RSA and EC keys that verify', async (format) => {
    for (const chain of [rsa, ec]) {
      const result = await signerOf(chain).sign(request(), format);
      expect(result.mediaType).toBe(format === 'jws' ? 'application/jose+json' : 'application/cose');
      expect(result.chain.map((c) => c.sha256)).toEqual(chain.chainDer.map((d) => parseCertificate(d).sha256));
      expect(result.annotations).toBeUndefined();
      const verified = await verifyResult(result, chain.root.certDer);
      expect(verified.error).toBeNull();
      expect(verified.verified).toBe(true);
      const parsed = parseEnvelope(result.mediaType, result.envelope);
      expect(parsed.algorithm).toBe(chain === rsa ? 'PS384' : 'ES256');
      expect(parsed.unsigned.timestampSignature).toBeUndefined();
    }
  });

  it('carries the expiry and signing agent of the request', async () => {
    const expiry = new Date(Math.floor(Date.now() / 1000) * 1000 + DAY);
    const result = await signerOf(ec).sign(request({ expiry }), 'cose');
    const parsed = parseEnvelope(result.mediaType, result.envelope);
    expect(parsed.signed.expiry?.getTime()).toBe(expiry.getTime());
    expect(parsed.unsigned.signingAgent).toBe('portcullis-test');
  });

  it('reads signingkeys.json entries: PKCS#8, PKCS#1 and SEC1 keys, PEM and DER chains, relative paths', async () => {
    const rsaKey = createPrivateKey(rsa.leaf.keyPem);
    const ecKey = createPrivateKey(ec.leaf.keyPem);
    writeFileSync(join(dir, 'pkcs1.key'), rsaKey.export({ type: 'pkcs1', format: 'pem' }));
    writeFileSync(join(dir, 'sec1.key'), ecKey.export({ type: 'sec1', format: 'pem' }));
    writeFileSync(join(dir, 'pkcs8.key'), ec.leaf.keyPem);
    writeFileSync(join(dir, 'rsa.crt'), chainPem(rsa));
    writeFileSync(join(dir, 'ec.der'), Buffer.concat(ec.chainDer.map((d) => Buffer.from(d))));
    const cases = [
      { entry: { name: 'a', keyPath: join(dir, 'pkcs1.key'), certPath: join(dir, 'rsa.crt') }, root: rsa.root.certDer },
      { entry: { name: 'b', keyPath: 'sec1.key', certPath: 'ec.der' }, root: ec.root.certDer },
      { entry: { name: 'c', keyPath: 'pkcs8.key', certPath: join(dir, 'ec.der') }, root: ec.root.certDer },
    ];
    for (const { entry, root } of cases) {
      const signer = await signerForKey(dir, entry);
      expect(signer).toBeInstanceOf(LocalKeySigner);
      expect((await verifyResult(await signer.sign(request(), 'jws'), root)).verified).toBe(true);
    }
  });

  it('refuses unusable keys and chains with ERR_KEY_INVALID', async () => {
    writeFileSync(join(dir, 'garbage.key'), 'not a key');
    writeFileSync(join(dir, 'ec.crt'), chainPem(ec));
    writeFileSync(join(dir, 'rsa.key'), rsa.leaf.keyPem);
    const entry = (keyPath: string, certPath: string) => ({ name: 'k', keyPath, certPath });
    const cases: [string, () => unknown, string][] = [
      [
        'key of another certificate',
        () => LocalKeySigner.fromEntry(dir, entry('rsa.key', 'ec.crt')),
        'does not belong to the certificate',
      ],
      [
        'unreadable key',
        () => LocalKeySigner.fromEntry(dir, entry('garbage.key', 'ec.crt')),
        'not an unencrypted PEM private key',
      ],
      ['missing key file', () => LocalKeySigner.fromEntry(dir, entry('nope.key', 'ec.crt')), 'cannot read'],
      ['missing certificate file', () => LocalKeySigner.fromEntry(dir, entry('rsa.key', 'nope.crt')), 'cannot read'],
      [
        'not a certificate',
        () => LocalKeySigner.fromEntry(dir, entry('rsa.key', 'garbage.key')),
        'certificate file cannot be read',
      ],
      [
        'chain without its root',
        () =>
          LocalKeySigner.fromPem(
            ec.leaf.keyPem,
            new Uint8Array(Buffer.from(ec.leaf.certPem + ec.intermediate.certPem)),
          ),
        'does not meet the Notary requirements',
      ],
    ];
    for (const [what, attempt, message] of cases) {
      const error = await failure(attempt);
      expect(error.code, what).toBe('ERR_KEY_INVALID');
      expect(error.message, what).toContain(message);
    }
  });

  it('refuses a leaf without the code-signing EKU and an unsupported key size', async () => {
    const serverLeaf = pki.issue({
      subject: '/CN=Not Code Signing',
      key: 'ec-256',
      issuer: ec.intermediate,
      extensions: ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'],
    });
    const eku = await failure(() =>
      LocalKeySigner.fromPem(
        serverLeaf.keyPem,
        new Uint8Array(Buffer.from(serverLeaf.certPem + ec.intermediate.certPem + ec.root.certPem)),
      ),
    );
    expect(eku.code).toBe('ERR_KEY_INVALID');
    const small = pki.issue({ subject: '/CN=Small', key: 'rsa-1024', extensions: EXT.selfSignedLeaf });
    const size = await failure(() => LocalKeySigner.fromPem(small.keyPem, new Uint8Array(Buffer.from(small.certPem))));
    expect(size.code).toBe('ERR_KEY_INVALID');
  });

  it('refuses to sign when the chain is not valid at the signing time', async () => {
    const expired = codeSigningChain(pki, {
      leafKey: 'ec-256',
      name: 'Expired',
      leafNotBefore: new Date(Date.now() - 10 * DAY),
      leafNotAfter: new Date(Date.now() - DAY),
    });
    const signer = signerOf(expired);
    const error = await failure(signer.sign(request(), 'jws'));
    expect(error.code).toBe('ERR_KEY_INVALID');
    expect(error.message).toContain('not valid at the signing time');
  });

  describe('with an RFC 3161 timestamp from a real TSA over HTTP', () => {
    const client = (root: Uint8Array = tsa.rootDer, extra: { deadlineMs?: number } = {}) =>
      new TimestampClient({ url: server.url, tsaRoots: [parseCertificate(root)], ...extra });

    it.each(['jws', 'cose'] as const)(
      '%s envelopes carry a token that passes authenticTimestamp with a tsa store',
      async (format) => {
        server.options = {};
        for (const chain of [rsa, ec]) {
          const result = await signerOf(chain, client()).sign(request(), format);
          const parsed = parseEnvelope(result.mediaType, result.envelope);
          expect(parsed.unsigned.timestampSignature).toBeDefined();
          const verified = await verifyResult(result, chain.root.certDer, tsa.rootDer);
          expect(verified.error).toBeNull();
          const checks = Object.fromEntries((verified.signatures[0]?.checks ?? []).map((c) => [c.check, c.status]));
          expect(checks['authenticTimestamp']).toBe('passed');
          expect(verified.verified).toBe(true);
        }
        // Control: without a timestamp the same policy (with a tsa store) rejects the signature.
        const plain = await signerOf(ec).sign(request(), format);
        const rejected = await verifyResult(plain, ec.root.certDer, tsa.rootDer);
        expect(rejected.error?.code).toBe('ERR_TIMESTAMP_MISSING');
      },
    );

    it('uses the hash the key implies for the imprint', async () => {
      server.options = {};
      const before = server.requests.length;
      await signerOf(rsa, client()).sign(request(), 'jws');
      const req = server.requests[before] as Uint8Array;
      // id-sha384 = 2.16.840.1.101.3.4.2.2
      expect(Buffer.from(req).includes(Buffer.from('608648016503040202', 'hex'))).toBe(true);
    });

    it('rejects a token that does not chain to the given TSA root', async () => {
      server.options = {};
      const other = new TestTsa({ pki, name: 'Someone Else TSA' });
      const error = await failure(signerOf(ec, client(other.rootDer)).sign(request(), 'jws'));
      expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
      expect(error.message).toContain(server.url);
    });

    it('fails with ERR_TIMESTAMP_FAILED when the TSA is slow past the deadline', async () => {
      server.options = { delayMs: 2000 };
      const error = await failure(signerOf(ec, client(tsa.rootDer, { deadlineMs: 200 })).sign(request(), 'cose'));
      expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
      server.options = {};
    });

    it('fails with ERR_TIMESTAMP_FAILED when the TSA is down', async () => {
      const down = new TimestampClient({
        url: 'http://127.0.0.1:9/tsa',
        tsaRoots: [parseCertificate(tsa.rootDer)],
        deadlineMs: 2000,
      });
      const error = await failure(signerOf(ec, down).sign(request(), 'jws'));
      expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
      expect(error.message).toContain('http://127.0.0.1:9/tsa');
    });

    it('refuses to timestamp a signing-authority signature', async () => {
      const error = await failure(
        signerOf(ec, client()).sign(request({ signingScheme: 'notary.x509.signingAuthority' }), 'jws'),
      );
      expect(error.code).toBe('ERR_INPUT_INVALID');
    });
  });
});
