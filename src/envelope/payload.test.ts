import { describe, expect, it } from 'vitest';
import { parsePayload } from './payload.js';
import { codeOf } from '../../test/helpers/errors.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const DIGEST = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';

describe('Notary payload', () => {
  it('reads the target artifact descriptor with optional annotations and artifactType', () => {
    const payload = parsePayload(
      bytes(
        `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":517,"annotations":{"a":"b"},"artifactType":"t"}}`,
      ),
    );
    expect(payload.targetArtifact).toEqual({
      mediaType: 'm',
      digest: DIGEST,
      size: 517,
      annotations: { a: 'b' },
      artifactType: 't',
    });
  });

  it('ignores unknown descriptor members such as urls, as OCI descriptors allow', () => {
    const payload = parsePayload(
      bytes(`{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":0,"urls":["x"]}}`),
    );
    expect(payload.targetArtifact).toEqual({ mediaType: 'm', digest: DIGEST, size: 0 });
  });

  it.each([
    ['a duplicate key', `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":1,"size":2}}`],
    [
      'a duplicate targetArtifact',
      `{"targetArtifact":{},"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":1}}`,
    ],
    ['no targetArtifact', '{}'],
    ['a non-object targetArtifact', '{"targetArtifact":[]}'],
    ['no mediaType', `{"targetArtifact":{"digest":"${DIGEST}","size":1}}`],
    ['no digest', '{"targetArtifact":{"mediaType":"m","size":1}}'],
    ['no size', `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}"}}`],
    ['a negative size', `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":-1}}`],
    ['a fractional size', `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":1.5}}`],
    ['an unsafe size', `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":9007199254740993}}`],
    ['a string size', `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":"1"}}`],
    [
      'a non-string annotation',
      `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":1,"annotations":{"a":1}}}`,
    ],
    ['non-object annotations', `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":1,"annotations":[]}}`],
    [
      'a non-string artifactType',
      `{"targetArtifact":{"mediaType":"m","digest":"${DIGEST}","size":1,"artifactType":1}}`,
    ],
    ['not JSON', 'invalid signature\n'],
    ['a JSON array', '[]'],
  ])('rejects %s', (_, text) => {
    expect(codeOf(() => parsePayload(bytes(text)))).toBe('ERR_PAYLOAD_INVALID');
  });

  it('rejects invalid UTF-8', () => {
    expect(codeOf(() => parsePayload(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe('ERR_PAYLOAD_INVALID');
  });
});
