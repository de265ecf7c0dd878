import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeSigningChain, Pki } from '../../../test/helpers/pki.js';
import { PortcullisError } from '../../errors/index.js';
import { decodeBase64Url, encodeBase64Url } from '../../util/base64.js';
import { CertificateCache, parseCertificate } from '../../x509/certificate.js';
import { signatureAlgorithmForKey } from '../../x509/key-spec.js';
import { signPrimitive } from '../algorithms.js';
import { parseEnvelope } from '../index.js';
import { signEnvelope, type SigningKey } from '../sign.js';
import { prepareJwsFromParts } from './sign.js';
import { codeOf } from '../../../test/helpers/errors.js';

const JWS = 'application/jose+json';
const CTY = 'application/vnd.cncf.notary.payload.v1+json';
const payload = new TextEncoder().encode(
  '{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517}}',
);

/** A valid notary.x509 protected header, with overrides (undefined deletes a member). */
function header(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    alg: 'ES256',
    crit: ['io.cncf.notary.signingScheme'],
    cty: CTY,
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': '2024-05-01T10:00:00Z',
    ...overrides,
  };
  for (const [k, v] of Object.entries(base)) if (v === undefined) delete base[k];
  return base;
}

describe('JWS envelope', () => {
  const pki = new Pki();
  let ec: SigningKey;
  let rsa: SigningKey;

  beforeAll(() => {
    const load = (leafKey: 'ec-256' | 'rsa-2048'): SigningKey => {
      const chain = codeSigningChain(pki, { leafKey, name: `JWS ${leafKey}` });
      return {
        privateKey: createPrivateKey(chain.leaf.keyPem),
        certificateChain: chain.chainDer.map((d) => parseCertificate(d)),
      };
    };
    ec = load('ec-256');
    rsa = load('rsa-2048');
  });
  afterAll(() => pki.cleanup());

  /** Signs any protected header (object or raw JSON text) with the key's real algorithm. */
  function forge(
    protectedHeader: Record<string, unknown> | string,
    key: SigningKey = ec,
    body: Uint8Array = payload,
  ): Uint8Array {
    const prepared = prepareJwsFromParts({
      protectedJson: typeof protectedHeader === 'string' ? protectedHeader : JSON.stringify(protectedHeader),
      payload: body,
      certificateChain: key.certificateChain.map((c) => c.der),
    });
    const alg = signatureAlgorithmForKey(key.certificateChain[0]!.key);
    return prepared.finish(signPrimitive(alg, key.privateKey, prepared.signingInput));
  }

  /** Edits the envelope's JSON members (not re-signed). */
  function edit(bytes: Uint8Array, change: (env: Record<string, unknown>) => void): Uint8Array {
    const env = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    change(env);
    return new TextEncoder().encode(JSON.stringify(env));
  }

  const parse = (bytes: Uint8Array): ReturnType<typeof parseEnvelope> => parseEnvelope(JWS, bytes);
  const valid = (): Uint8Array => signEnvelope('jws', { payload, signingTime: new Date('2024-05-01T10:00:00Z') }, ec);

  it('accepts a header forged exactly like the signer writes it (sanity check of the helpers)', () => {
    expect(parse(forge(header())).algorithm).toBe('ES256');
  });

  describe('integrity', () => {
    it('rejects a flipped payload byte', () => {
      const bad = edit(valid(), (env) => {
        const bytes = decodeBase64Url(env['payload'] as string);
        bytes[10]! ^= 0x01;
        env['payload'] = encodeBase64Url(bytes);
      });
      expect(codeOf(() => parse(bad))).toBe('ERR_SIGNATURE_INVALID');
    });

    it('rejects a flipped signature byte', () => {
      const bad = edit(valid(), (env) => {
        const bytes = decodeBase64Url(env['signature'] as string);
        bytes[5]! ^= 0x80;
        env['signature'] = encodeBase64Url(bytes);
      });
      expect(codeOf(() => parse(bad))).toBe('ERR_SIGNATURE_INVALID');
    });

    it('rejects a truncated signature', () => {
      const bad = edit(valid(), (env) => {
        env['signature'] = encodeBase64Url(decodeBase64Url(env['signature'] as string).subarray(0, 63));
      });
      expect(codeOf(() => parse(bad))).toBe('ERR_SIGNATURE_INVALID');
    });

    it('rejects a payload content type other than the Notary payload v1', () => {
      expect(codeOf(() => parse(forge(header({ cty: 'application/json' }))))).toBe('ERR_PAYLOAD_INVALID');
    });
  });

  describe('algorithm', () => {
    it('rejects alg substitution: PS256 declared, P-256 key', () => {
      expect(codeOf(() => parse(forge(header({ alg: 'PS256' }), ec)))).toBe('ERR_ENVELOPE_ALGORITHM');
    });

    it('rejects alg substitution: ES256 declared, RSA key', () => {
      expect(codeOf(() => parse(forge(header({ alg: 'ES256' }), rsa)))).toBe('ERR_ENVELOPE_ALGORITHM');
    });

    it.each(['none', 'HS256', 'RS256', 'EdDSA', 'es256', 42])('rejects alg %j', (alg) => {
      expect(codeOf(() => parse(forge(header({ alg }))))).toBe('ERR_ENVELOPE_ALGORITHM');
    });

    it('rejects a missing alg', () => {
      expect(codeOf(() => parse(forge(header({ alg: undefined }))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });
  });

  describe('critical headers', () => {
    it('rejects a missing crit', () => {
      expect(codeOf(() => parse(forge(header({ crit: undefined }))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects an empty crit', () => {
      expect(codeOf(() => parse(forge(header({ crit: [] }))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects crit without signingScheme', () => {
      expect(() => parse(forge(header({ crit: ['com.example.x'], 'com.example.x': 1 })))).toThrow(
        'these required headers are not marked as critical: io.cncf.notary.signingScheme',
      );
    });

    it('rejects crit listing a header that is not present', () => {
      const h = header({ crit: ['io.cncf.notary.signingScheme', 'com.example.absent'] });
      expect(() => parse(forge(h))).toThrow('"com.example.absent" header is marked critical but not present');
      expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it.each(['alg', 'cty', 'crit', 'x5c'])('rejects crit listing the registered header %s', (name) => {
      const h = header({ crit: ['io.cncf.notary.signingScheme', name] });
      expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects crit that is not a list of strings', () => {
      expect(codeOf(() => parse(forge(header({ crit: 'io.cncf.notary.signingScheme' }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
      expect(codeOf(() => parse(forge(header({ crit: ['io.cncf.notary.signingScheme', 7] }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });

    it('rejects crit listing a header twice', () => {
      const h = header({ crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.signingScheme'] });
      expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects an expiry that is not marked critical', () => {
      expect(codeOf(() => parse(forge(header({ 'io.cncf.notary.expiry': '2034-01-01T00:00:00Z' }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });

    it('rejects a verification plugin that is not marked critical', () => {
      expect(codeOf(() => parse(forge(header({ 'io.cncf.notary.verificationPlugin': 'p' }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });

    it('returns an unknown critical extended attribute for the workflow to judge', () => {
      const h = header({
        crit: ['io.cncf.notary.signingScheme', 'com.example.x'],
        'com.example.x': { n: [1] },
        other: true,
      });
      expect(parse(forge(h)).signed.extendedAttributes).toEqual([
        { key: 'com.example.x', value: { n: [1] }, critical: true },
        { key: 'other', value: true, critical: false },
      ]);
    });

    it('rejects registered headers that Notary does not use in the protected header', () => {
      expect(codeOf(() => parse(forge(header({ kid: 'k1' }))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });
  });

  describe('signing scheme and times', () => {
    it('rejects an unknown signing scheme', () => {
      expect(codeOf(() => parse(forge(header({ 'io.cncf.notary.signingScheme': 'notary.default.x509' }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });

    it('rejects a missing signing scheme', () => {
      const h = header({ 'io.cncf.notary.signingScheme': undefined, crit: ['com.example.x'], 'com.example.x': 1 });
      expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects notary.x509 without signingTime', () => {
      expect(codeOf(() => parse(forge(header({ 'io.cncf.notary.signingTime': undefined }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });

    it('rejects notary.x509 with authenticSigningTime', () => {
      const h = header({
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.authenticSigningTime'],
        'io.cncf.notary.authenticSigningTime': '2024-05-01T10:00:00Z',
      });
      expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    const sa = (overrides: Record<string, unknown>): Record<string, unknown> =>
      header({
        'io.cncf.notary.signingScheme': 'notary.x509.signingAuthority',
        'io.cncf.notary.signingTime': undefined,
        'io.cncf.notary.authenticSigningTime': '2024-05-01T10:00:00Z',
        crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.authenticSigningTime'],
        ...overrides,
      });

    it('accepts the signing authority scheme with authenticSigningTime', () => {
      expect(parse(forge(sa({}))).signed.authenticSigningTime?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    });

    it('rejects signingTime on the signing authority scheme', () => {
      expect(codeOf(() => parse(forge(sa({ 'io.cncf.notary.signingTime': '2024-05-01T10:00:00Z' }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });

    it('rejects the signing authority scheme without authenticSigningTime', () => {
      const h = sa({ 'io.cncf.notary.authenticSigningTime': undefined, crit: ['io.cncf.notary.signingScheme'] });
      expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects authenticSigningTime not marked critical', () => {
      expect(codeOf(() => parse(forge(sa({ crit: ['io.cncf.notary.signingScheme'] }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });

    it('rejects an expiry before (or at) the signing time', () => {
      for (const expiry of ['2024-05-01T09:00:00Z', '2024-05-01T10:00:00Z']) {
        const h = header({
          crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
          'io.cncf.notary.expiry': expiry,
        });
        expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
      }
    });

    it('parses RFC 3339 times with offsets and fractions', () => {
      const h = header({ 'io.cncf.notary.signingTime': '2023-06-27T13:30:33.25+08:00' });
      expect(parse(forge(h)).signed.signingTime?.toISOString()).toBe('2023-06-27T05:30:33.250Z');
    });

    it.each([
      '2024-05-01 10:00:00Z',
      '2024-05-01T10:00:00',
      '2024-02-30T10:00:00Z',
      '2024-05-01T24:00:00Z',
      '2024-05-01T10:00:60Z',
      '2024-05-01t10:00:00z',
      '2024-05-01T10:00:00+0800',
      1714557600,
    ])('rejects the signing time %j', (time) => {
      expect(codeOf(() => parse(forge(header({ 'io.cncf.notary.signingTime': time }))))).toBe(
        'ERR_ENVELOPE_HEADER_INVALID',
      );
    });
  });

  describe('structure', () => {
    it('rejects duplicate keys in the protected header', () => {
      const json = JSON.stringify(header()).replace('{', '{"alg":"PS256",');
      expect(codeOf(() => parse(forge(json)))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects protected header names that differ only in case', () => {
      const json = JSON.stringify(header()).replace('{', '{"ALG":"PS256",');
      expect(codeOf(() => parse(forge(json)))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects envelope members that differ only in case', () => {
      const text = Buffer.from(valid()).toString().replace('{', '{"Signature":"AA",');
      expect(codeOf(() => parse(new TextEncoder().encode(text)))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects duplicate members of the envelope', () => {
      const text = Buffer.from(valid()).toString().replace('{', '{"signature":"AA",');
      expect(codeOf(() => parse(new TextEncoder().encode(text)))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects a protected header that is not a JSON object', () => {
      expect(codeOf(() => parse(forge('["alg"]')))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it.each(['payload', 'protected', 'signature'])(
      'rejects %s with base64 padding or the standard alphabet',
      (member) => {
        const padded = edit(valid(), (env) => {
          env[member] = `${env[member] as string}=`;
        });
        expect(codeOf(() => parse(padded))).toBe('ERR_ENVELOPE_MALFORMED');
        const standard = edit(valid(), (env) => {
          env[member] = `+/${(env[member] as string).slice(2)}`;
        });
        expect(codeOf(() => parse(standard))).toBe('ERR_ENVELOPE_MALFORMED');
      },
    );

    it('rejects unknown, missing or mistyped top-level members', () => {
      expect(codeOf(() => parse(edit(valid(), (env) => void (env['signatures'] = []))))).toBe('ERR_ENVELOPE_MALFORMED');
      expect(codeOf(() => parse(edit(valid(), (env) => void delete env['header'])))).toBe('ERR_ENVELOPE_MALFORMED');
      expect(codeOf(() => parse(edit(valid(), (env) => void (env['payload'] = 1))))).toBe('ERR_ENVELOPE_MALFORMED');
      expect(codeOf(() => parse(edit(valid(), (env) => void (env['header'] = 'x'))))).toBe('ERR_ENVELOPE_MALFORMED');
      expect(codeOf(() => parse(new TextEncoder().encode('[]')))).toBe('ERR_ENVELOPE_MALFORMED');
      expect(codeOf(() => parse(new Uint8Array()))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects a compact JWS', () => {
      const env = JSON.parse(Buffer.from(valid()).toString()) as Record<string, string>;
      const compact = `${env['protected']}.${env['payload']}.${env['signature']}`;
      expect(codeOf(() => parse(new TextEncoder().encode(compact)))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects a missing, empty or malformed certificate chain', () => {
      const without = edit(valid(), (env) => void (env['header'] = {}));
      expect(() => parse(without)).toThrow('certificate chain is not present');
      expect(codeOf(() => parse(edit(valid(), (env) => void (env['header'] = { x5c: [] }))))).toBe(
        'ERR_ENVELOPE_MALFORMED',
      );
      expect(codeOf(() => parse(edit(valid(), (env) => void (env['header'] = { x5c: 'AA==' }))))).toBe(
        'ERR_ENVELOPE_MALFORMED',
      );
      expect(codeOf(() => parse(edit(valid(), (env) => void (env['header'] = { x5c: ['AA'] }))))).toBe(
        'ERR_ENVELOPE_MALFORMED',
      );
      expect(codeOf(() => parse(edit(valid(), (env) => void (env['header'] = { x5c: ['AAAA'] }))))).toBe(
        'ERR_CERT_MALFORMED',
      );
    });

    it('rejects two unprotected members that differ only in case', () => {
      const bad = edit(valid(), (env) => {
        const h = env['header'] as Record<string, unknown>;
        h['X5C'] = h['x5c'];
      });
      expect(codeOf(() => parse(bad))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects a timestamp token that is not standard base64, and a non-string signing agent', () => {
      const token = edit(
        valid(),
        (env) => void ((env['header'] as Record<string, unknown>)['io.cncf.notary.timestampSignature'] = 'MA'),
      );
      expect(codeOf(() => parse(token))).toBe('ERR_ENVELOPE_MALFORMED');
      const agent = edit(
        valid(),
        (env) => void ((env['header'] as Record<string, unknown>)['io.cncf.notary.signingAgent'] = 1),
      );
      expect(codeOf(() => parse(agent))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects an envelope over the size cap (5 MiB header) with ERR_SIZE_LIMIT', () => {
      const huge = edit(
        valid(),
        (env) =>
          void ((env['header'] as Record<string, unknown>)['io.cncf.notary.signingAgent'] = 'a'.repeat(
            5 * 1024 * 1024,
          )),
      );
      expect(codeOf(() => parse(huge))).toBe('ERR_SIZE_LIMIT');
      expect(codeOf(() => parseEnvelope(JWS, valid(), { maxBytes: 100 }))).toBe('ERR_SIZE_LIMIT');
    });

    it('rejects a 10,000-deep JSON nesting', () => {
      const deep = `{"header":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      expect(codeOf(() => parse(new TextEncoder().encode(deep)))).toBe('ERR_ENVELOPE_MALFORMED');
      const deepHeader = forge(`{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
      expect(codeOf(() => parse(deepHeader))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('fails every truncation of a valid envelope with a PortcullisError', () => {
      const bytes = valid();
      for (let n = 0; n < bytes.length; n += n < 64 ? 1 : 7) {
        expect(() => parse(bytes.subarray(0, n)), `prefix of ${n} bytes`).toThrow(PortcullisError);
      }
    });

    it('never throws anything but a PortcullisError for random byte corruption', () => {
      const bytes = valid();
      const certificateCache = new CertificateCache(); // parse the intact certificates once
      let seed = 12345;
      const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
      for (let i = 0; i < 400; i++) {
        const copy = new Uint8Array(bytes);
        copy[rand(copy.length)] = rand(256);
        try {
          parseEnvelope(JWS, copy, { certificateCache });
        } catch (e) {
          expect(e).toBeInstanceOf(PortcullisError);
        }
      }
    });
  });
});
