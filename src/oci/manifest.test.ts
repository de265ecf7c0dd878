import { describe, expect, it } from 'vitest';
import { codeOf } from '../../test/helpers/errors.js';
import { parseManifest, toSignatureManifest } from './manifest.js';
import { MEDIA_TYPE } from './media-types.js';

const bytes = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const D = (n: string) => `sha256:${n.repeat(64)}`;
const signatureManifest = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.ociManifest,
  artifactType: MEDIA_TYPE.notarySignature,
  config: { mediaType: MEDIA_TYPE.ociEmpty, digest: D('4'), size: 2 },
  layers: [{ mediaType: MEDIA_TYPE.jws, digest: D('1'), size: 10 }],
  subject: { mediaType: MEDIA_TYPE.ociManifest, digest: D('2'), size: 517 },
};

describe('manifest parsing', () => {
  it('reads a Notary signature manifest', () => {
    const sig = toSignatureManifest(parseManifest(bytes(signatureManifest)));
    expect(sig).toMatchObject({ shape: 'artifactType', subject: { digest: D('2') }, envelope: { digest: D('1') } });
  });

  // Go's encoding/json (notation, oras, the registries) folds member names: `Subject` would
  // replace `subject` for it while Portcullis read the first one.
  it.each([
    [
      'a "Subject" beside "subject"',
      { ...signatureManifest, Subject: { mediaType: MEDIA_TYPE.ociManifest, digest: D('3'), size: 1 } },
    ],
    ['a "LAYERS" beside "layers"', { ...signatureManifest, LAYERS: [] }],
    [
      'a descriptor with "Digest" beside "digest"',
      { ...signatureManifest, subject: { ...signatureManifest.subject, Digest: D('3') } },
    ],
    [
      'an index (referrers list) entry with "artifacttype"',
      {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociIndex,
        manifests: [
          { mediaType: MEDIA_TYPE.ociManifest, digest: D('5'), size: 1, artifactType: 'a', artifacttype: 'b' },
        ],
      },
    ],
  ])('rejects %s', (_, doc) => {
    expect(codeOf(() => parseManifest(bytes(doc)))).toBe('ERR_SIGNATURE_MANIFEST_INVALID');
  });
});
