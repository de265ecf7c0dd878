export { sameContent } from './descriptor.js';
export {
  MAX_MANIFEST_BYTES,
  effectiveArtifactType,
  parseManifest,
  toDescriptor,
  toSignatureManifest,
} from './manifest.js';
export { MEDIA_TYPE, THUMBPRINT_ANNOTATION } from './media-types.js';
export type { ArtifactTarget, Descriptor } from './descriptor.js';
export type { Manifest } from './manifest.js';
export type { SignatureSource } from './signature-source.js';
