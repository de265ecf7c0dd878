import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeSigningChain, Pki } from '../../../test/helpers/pki.js';
import { PortcullisError } from '../../errors/index.js';
import { CertificateCache, parseCertificate } from '../../x509/certificate.js';
import { signatureAlgorithmForKey } from '../../x509/key-spec.js';
import { signPrimitive } from '../algorithms.js';
import { parseEnvelope } from '../index.js';
import { signEnvelope, type SigningKey } from '../sign.js';
import { Tag, encodeCbor, type CborValue } from './cbor-encode.js';
import { coseUnprotectedHeaderOf, prepareCoseFromParts } from './sign.js';
import { codeOf } from '../../../test/helpers/errors.js';

const COSE = 'application/cose';
const CTY = 'application/vnd.cncf.notary.payload.v1+json';
const SCHEME = 'io.cncf.notary.signingScheme';
const SIGNING_TIME = 'io.cncf.notary.signingTime';
const AUTHENTIC = 'io.cncf.notary.authenticSigningTime';
const EXPIRY = 'io.cncf.notary.expiry';
const T0 = 1714557600; // 2024-05-01T10:00:00Z
const payload = new TextEncoder().encode(
  '{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517}}',
);

const time = (seconds: number): Tag => new Tag(1, seconds);

/** A valid notary.x509 protected header, with overrides (undefined deletes a label). */
function header(overrides: [number | string, CborValue | undefined][] = [], alg = -7): Map<number | string, CborValue> {
  const map = new Map<number | string, CborValue>([
    [1, alg],
    [2, [SCHEME]],
    [3, CTY],
    [SCHEME, 'notary.x509'],
    [SIGNING_TIME, time(T0)],
  ]);
  for (const [k, v] of overrides) {
    if (v === undefined) map.delete(k);
    else map.set(k, v);
  }
  return map;
}

const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('COSE envelope', () => {
  const pki = new Pki();
  let ec: SigningKey;
  let rsa: SigningKey;

  beforeAll(() => {
    const load = (leafKey: 'ec-256' | 'rsa-2048'): SigningKey => {
      const chain = codeSigningChain(pki, { leafKey, name: `COSE ${leafKey}` });
      return {
        privateKey: createPrivateKey(chain.leaf.keyPem),
        certificateChain: chain.chainDer.map((d) => parseCertificate(d)),
      };
    };
    ec = load('ec-256');
    rsa = load('rsa-2048');
  });
  afterAll(() => pki.cleanup());

  /** Signs any protected bucket (map or raw bytes) with the key's real algorithm. */
  function forge(
    protectedHeader: Map<number | string, CborValue> | Uint8Array,
    options: { key?: SigningKey; unprotected?: Map<number | string, CborValue> } = {},
  ): Uint8Array {
    const key = options.key ?? ec;
    const prepared = prepareCoseFromParts({
      protectedBytes: protectedHeader instanceof Uint8Array ? protectedHeader : encodeCbor(protectedHeader),
      payload,
      unprotected:
        options.unprotected ??
        coseUnprotectedHeaderOf(
          key.certificateChain.map((c) => c.der),
          undefined,
        ),
    });
    const alg = signatureAlgorithmForKey(key.certificateChain[0]!.key);
    return prepared.finish(signPrimitive(alg, key.privateKey, prepared.signingInput));
  }

  const parse = (bytes: Uint8Array): ReturnType<typeof parseEnvelope> => parseEnvelope(COSE, bytes);
  const valid = (): Uint8Array => signEnvelope('cose', { payload, signingTime: new Date(T0 * 1000) }, ec);

  it('accepts a header forged exactly like the signer writes it (sanity check of the helpers)', () => {
    expect(parse(forge(header())).signed.signingTime?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
  });

  describe('integrity', () => {
    it('rejects a flipped payload byte', () => {
      const bytes = valid();
      const at = Buffer.from(bytes).indexOf(Buffer.from('targetArtifact'));
      bytes[at]! ^= 0x01;
      expect(codeOf(() => parse(bytes))).toBe('ERR_SIGNATURE_INVALID');
    });

    it('rejects a flipped signature byte', () => {
      const bytes = valid();
      bytes[bytes.length - 3]! ^= 0x01;
      expect(codeOf(() => parse(bytes))).toBe('ERR_SIGNATURE_INVALID');
    });

    it('rejects a payload content type other than the Notary payload v1', () => {
      expect(codeOf(() => parse(forge(header([[3, 'application/json']]))))).toBe('ERR_PAYLOAD_INVALID');
    });
  });

  describe('algorithm', () => {
    it('rejects alg substitution: PS256 (-37) declared, P-256 key', () => {
      expect(codeOf(() => parse(forge(header([], -37))))).toBe('ERR_ENVELOPE_ALGORITHM');
    });

    it('rejects alg substitution: ES256 (-7) declared, RSA key', () => {
      expect(codeOf(() => parse(forge(header([], -7), { key: rsa })))).toBe('ERR_ENVELOPE_ALGORITHM');
    });

    it.each([
      ['HMAC 256/256 (5)', 5],
      ['RS256 (-257)', -257],
      ['EdDSA (-8)', -8],
      ['the text "ES256"', 'ES256'],
    ])('rejects alg %s', (_, alg) => {
      expect(codeOf(() => parse(forge(header([[1, alg]]))))).toBe('ERR_ENVELOPE_ALGORITHM');
    });

    it('rejects a missing alg', () => {
      expect(codeOf(() => parse(forge(header([[1, undefined]]))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });
  });

  describe('critical headers and times', () => {
    it('rejects crit without signingScheme', () => {
      expect(
        codeOf(() =>
          parse(
            forge(
              header([
                [2, ['x']],
                ['x', 1],
              ]),
            ),
          ),
        ),
      ).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects crit listing a header that is not present', () => {
      expect(() => parse(forge(header([[2, [SCHEME, 'absent']]])))).toThrow(
        '"absent" header is marked critical but not present',
      );
    });

    it('rejects crit listing an integer label such as alg', () => {
      expect(codeOf(() => parse(forge(header([[2, [SCHEME, 1]]]))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects a missing or empty crit', () => {
      expect(codeOf(() => parse(forge(header([[2, undefined]]))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
      expect(codeOf(() => parse(forge(header([[2, []]]))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects an expiry before the signing time', () => {
      expect(
        codeOf(() =>
          parse(
            forge(
              header([
                [2, [SCHEME, EXPIRY]],
                [EXPIRY, time(T0 - 60)],
              ]),
            ),
          ),
        ),
      ).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects signingTime on the signing authority scheme', () => {
      const h = header([
        [SCHEME, 'notary.x509.signingAuthority'],
        [2, [SCHEME, AUTHENTIC]],
        [AUTHENTIC, time(T0)],
      ]);
      expect(codeOf(() => parse(forge(h)))).toBe('ERR_ENVELOPE_HEADER_INVALID');
      h.delete(SIGNING_TIME);
      expect(parse(forge(h)).signed.authenticSigningTime?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    });

    it.each([
      ['tag 0 (date/time string)', new Tag(0, '2024-05-01T10:00:00Z')],
      ['an untagged integer', T0],
      ['tag 1 around a float', new Tag(1, 1714557600.5)],
      ['tag 1 around a string', new Tag(1, '1714557600')],
      ['tag 1001 (extended time)', new Tag(1001, new Map([[1, T0]]))],
    ])('rejects a signing time given as %s', (_, value) => {
      expect(codeOf(() => parse(forge(header([[SIGNING_TIME, value]]))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects a content type that is not text, and unknown integer labels', () => {
      expect(codeOf(() => parse(forge(header([[3, 50]]))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
      expect(codeOf(() => parse(forge(header([[4, new Uint8Array([1])]]))))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('returns an unknown critical extended attribute for the workflow to judge', () => {
      const env = parse(
        forge(
          header([
            [2, [SCHEME, 'com.example.x']],
            ['com.example.x', 'v'],
          ]),
        ),
      );
      expect(env.signed.extendedAttributes).toEqual([{ key: 'com.example.x', value: 'v', critical: true }]);
    });
  });

  describe('structure', () => {
    it('rejects duplicate keys in the protected header', () => {
      // {1: -7, 1: -7, 2: [scheme], 3: cty, scheme: "notary.x509", signingTime: 1(T0)}
      const entries = [...header()].map(([k, v]) => Buffer.concat([encodeCbor(k), encodeCbor(v)]));
      const raw = new Uint8Array(Buffer.concat([Uint8Array.of(0xa6), encodeCbor(1), encodeCbor(-7), ...entries]));
      expect(codeOf(() => parse(forge(raw)))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects keys that collide only after decoding (integer 1 and float 1.0)', () => {
      const entries = [...header()].map(([k, v]) => Buffer.concat([encodeCbor(k), encodeCbor(v)]));
      const raw = new Uint8Array(Buffer.concat([Uint8Array.of(0xa6), hex('f93c00'), encodeCbor(-7), ...entries]));
      expect(codeOf(() => parse(forge(raw)))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects a protected header that is not a map, or empty', () => {
      expect(codeOf(() => parse(forge(encodeCbor([1, -7]))))).toBe('ERR_ENVELOPE_MALFORMED');
      expect(codeOf(() => parse(forge(new Uint8Array())))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects x5chain given as one bare bstr: certificate chain is not present', () => {
      const unprotected = new Map<number | string, CborValue>([[33, ec.certificateChain[0]!.der]]);
      expect(() => parse(forge(header(), { unprotected }))).toThrow('certificate chain is not present');
      expect(codeOf(() => parse(forge(header(), { unprotected })))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects x5chain only in the protected header', () => {
      const h = header([[33, ec.certificateChain.map((c) => c.der)]]);
      expect(codeOf(() => parse(forge(h, { unprotected: new Map() })))).toBe('ERR_ENVELOPE_HEADER_INVALID');
    });

    it('rejects a label present in both buckets', () => {
      const unprotected = coseUnprotectedHeaderOf(
        ec.certificateChain.map((c) => c.der),
        undefined,
      );
      unprotected.set(SCHEME, 'notary.x509');
      expect(codeOf(() => parse(forge(header(), { unprotected })))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects a mistyped timestamp token or signing agent', () => {
      const chain = ec.certificateChain.map((c) => c.der);
      const token = coseUnprotectedHeaderOf(chain, undefined).set('io.cncf.notary.timestampSignature', 'MIIB');
      expect(codeOf(() => parse(forge(header(), { unprotected: token })))).toBe('ERR_ENVELOPE_MALFORMED');
      const agent = coseUnprotectedHeaderOf(chain, undefined).set('io.cncf.notary.signingAgent', new Uint8Array([1]));
      expect(codeOf(() => parse(forge(header(), { unprotected: agent })))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it.each([
      ['random bytes', hex('5c 9a 01 ff 32 77 10 00 8e')],
      ['an empty input', new Uint8Array()],
      [
        'the wrong tag (17, COSE_Mac0)',
        encodeCbor(new Tag(17, [new Uint8Array(), new Map(), new Uint8Array(), new Uint8Array()])),
      ],
      ['an untagged COSE_Sign1', encodeCbor([encodeCbor(header()), new Map(), payload, new Uint8Array([1])])],
      ['an array of 3', encodeCbor(new Tag(18, [encodeCbor(header()), new Map(), payload]))],
      [
        'a detached (nil) payload',
        encodeCbor(new Tag(18, [encodeCbor(header()), new Map(), null, new Uint8Array([1])])),
      ],
      ['an indefinite-length array', hex('d2 9f 40 a0 40 40 ff')],
      ['an indefinite-length byte string', hex('d2 84 5f 41 00 ff a0 40 40')],
      [
        'trailing bytes after the message',
        new Uint8Array([
          ...encodeCbor(new Tag(18, [new Uint8Array(), new Map(), new Uint8Array(), new Uint8Array([1])])),
          0,
        ]),
      ],
      ['a 10,000-deep nesting', new Uint8Array([0xd2, ...new Array<number>(10_000).fill(0x81), 0x01])],
    ])('rejects %s as malformed', (_, bytes) => {
      expect(codeOf(() => parse(bytes))).toBe('ERR_ENVELOPE_MALFORMED');
    });

    it('rejects an envelope over the size cap (5 MiB header) with ERR_SIZE_LIMIT', () => {
      const unprotected = coseUnprotectedHeaderOf(
        ec.certificateChain.map((c) => c.der),
        'a'.repeat(5 * 1024 * 1024),
      );
      expect(codeOf(() => parse(forge(header(), { unprotected })))).toBe('ERR_SIZE_LIMIT');
    });

    it('fails every truncation of a valid envelope with a PortcullisError', () => {
      const bytes = valid();
      for (let n = 0; n < bytes.length; n += n < 64 ? 1 : 5) {
        expect(() => parse(bytes.subarray(0, n)), `prefix of ${n} bytes`).toThrow(PortcullisError);
      }
    });

    it('never throws anything but a PortcullisError for random byte corruption', () => {
      const bytes = valid();
      const certificateCache = new CertificateCache(); // parse the intact certificates once
      let seed = 777;
      const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
      for (let i = 0; i < 400; i++) {
        const copy = new Uint8Array(bytes);
        copy[rand(copy.length)] = rand(256);
        try {
          parseEnvelope(COSE, copy, { certificateCache });
        } catch (e) {
          expect(e).toBeInstanceOf(PortcullisError);
        }
      }
    });
  });
});
