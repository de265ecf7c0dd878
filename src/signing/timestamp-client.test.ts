import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { TsaServer } from '../../test/helpers/tsa-server.js';
import { TestTsa } from '../../test/helpers/tsa.js';
import { PortcullisError } from '../errors/index.js';
import { buildTimestampRequest, parseTimestampToken } from '../timestamp/index.js';
import { parseCertificate } from '../x509/certificate.js';
import { TimestampClient } from './timestamp-client.js';

const DAY = 86_400_000;
const signature = new Uint8Array(Buffer.from('primitive signature bytes'));

async function failure(promise: Promise<unknown>): Promise<PortcullisError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a failure');
}

describe('TimestampClient against a real TSA over HTTP', () => {
  const pki = new Pki();
  let tsa: TestTsa;
  let otherTsa: TestTsa;
  let server: TsaServer;
  let chain: CodeSigningChain;

  beforeAll(async () => {
    tsa = new TestTsa({ pki, intermediate: true });
    otherTsa = new TestTsa({ pki, name: 'Other TSA' });
    server = await TsaServer.start(tsa);
    chain = codeSigningChain(pki, { leafKey: 'ec-256' });
  });
  afterAll(async () => {
    await server.close();
    pki.cleanup();
  });

  const client = (extra: Partial<ConstructorParameters<typeof TimestampClient>[0]> = {}) =>
    new TimestampClient({ url: server.url, tsaRoots: [parseCertificate(tsa.rootDer)], ...extra });
  const signingChain = () => chain.chainDer.map((d) => parseCertificate(d));

  it('gets a token over HTTP that covers the signature, with a nonce and certReq', async () => {
    server.options = {};
    for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
      const token = await client().requestToken(signature, hash);
      const parsed = parseTimestampToken(token);
      expect(parsed.info.messageImprint.hashAlgorithm).toBe(hash);
      expect(parsed.info.nonce).toBeTypeOf('bigint');
      expect(parsed.certificates.length).toBeGreaterThan(0);
    }
    expect(server.requestTypes.at(-1)).toBe('application/timestamp-query');
  });

  it('countersign verifies the token against the TSA root and the signing chain', async () => {
    server.options = {};
    const token = await client().countersign(signature, 'sha256', signingChain());
    expect(parseTimestampToken(token).info.genTime.getTime()).toBeLessThanOrEqual(Date.now() + 2000);
  });

  it('rejects a token from a TSA that does not chain to the configured root', async () => {
    server.options = {};
    const error = await failure(
      client({ tsaRoots: [parseCertificate(otherTsa.rootDer)] }).countersign(signature, 'sha256', signingChain()),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
    expect(error.message).toContain(server.url);
    expect(error.message).toContain('does not verify against the timestamp root certificate');
    expect((error.cause as PortcullisError).code).toBe('ERR_TIMESTAMP_UNTRUSTED');
  });

  it('rejects a timestamp outside the signing chain validity', async () => {
    server.options = {};
    const expired = codeSigningChain(pki, {
      leafKey: 'ec-256',
      name: 'Expired',
      leafNotBefore: new Date(Date.now() - 10 * DAY),
      leafNotAfter: new Date(Date.now() - DAY),
    });
    const error = await failure(
      client().countersign(
        signature,
        'sha256',
        expired.chainDer.map((d) => parseCertificate(d)),
      ),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
    expect((error.cause as PortcullisError).code).toBe('ERR_TIMESTAMP_OUTSIDE_VALIDITY');
  });

  it('rejects an answer to another request (nonce mismatch)', async () => {
    server.options = {
      mutate: () => tsa.reply(buildTimestampRequest({ message: signature, hash: 'sha256', nonce: 12345n })),
    };
    const error = await failure(client().requestToken(signature, 'sha256'));
    expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
    expect(error.message).toContain('nonce does not match');
  });

  it('rejects a token over other bytes', async () => {
    server.options = {
      mutate: (_res, req) => {
        // Same nonce, other message: re-ask openssl with a request whose imprint differs.
        const other = Buffer.from(req);
        other[other.length - 20] = (other[other.length - 20] as number) ^ 0xff;
        return tsa.reply(other);
      },
    };
    const error = await failure(client().requestToken(signature, 'sha256'));
    expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
    expect(error.message).toContain('does not cover the signature that was sent');
  });

  it('rejects an HTTP error, a wrong content type, an undecodable body and an oversized body', async () => {
    server.options = { status: 500 };
    expect((await failure(client().requestToken(signature, 'sha256'))).message).toContain('unexpected HTTP status 500');
    server.options = { contentType: 'application/octet-stream' };
    expect((await failure(client().requestToken(signature, 'sha256'))).message).toContain('unexpected content type');
    server.options = { mutate: () => new Uint8Array([1, 2, 3]) };
    const garbled = await failure(client().requestToken(signature, 'sha256'));
    expect(garbled.code).toBe('ERR_TIMESTAMP_FAILED');
    expect((garbled.cause as PortcullisError).code).toBe('ERR_TIMESTAMP_INVALID');
    server.options = {};
    const big = await failure(client({ maxResponseBytes: 100 }).requestToken(signature, 'sha256'));
    expect(big.message).toContain('100-byte limit');
  });

  it('fails within the deadline when the TSA is slow', async () => {
    server.options = { delayMs: 3000 };
    const started = Date.now();
    const error = await failure(client({ deadlineMs: 300 }).requestToken(signature, 'sha256'));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
    expect(error.message).toContain('no answer within 300 ms');
    server.options = {};
  });

  it('fails when the TSA is down', async () => {
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const url = `http://127.0.0.1:${port}/tsa`;
    const error = await failure(
      new TimestampClient({ url, tsaRoots: [parseCertificate(tsa.rootDer)] }).requestToken(signature, 'sha256'),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_FAILED');
    expect(error.message).toContain(url);
    expect(error.message).toContain('request failed');
  });

  it('refuses bad configuration', () => {
    expect(() => new TimestampClient({ url: 'ftp://tsa.test/', tsaRoots: [parseCertificate(tsa.rootDer)] })).toThrow(
      'must be http or https',
    );
    expect(() => new TimestampClient({ url: 'not a url', tsaRoots: [parseCertificate(tsa.rootDer)] })).toThrow(
      'is not a valid URL',
    );
    expect(() => new TimestampClient({ url: server.url, tsaRoots: [] })).toThrow(
      'timestamp root certificate is required',
    );
  });
});
