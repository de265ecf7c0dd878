export { verifyArtifact, DEFAULT_MAX_SIGNATURE_ATTEMPTS } from './artifact.js';
export type {
  ArtifactVerification,
  ArtifactVerificationOptions,
  ArtifactVerificationRequest,
  SignatureSource,
} from './artifact.js';
export { verifySignature } from './signature.js';
export type { SignatureInput, SignatureVerificationOptions } from './signature.js';
export type * from './types.js';
export {
  PLUGIN_CONTRACT_VERSION,
  VERIFIER_CAPABILITY,
  buildVerifyRequest,
  preparePlugin,
  readVerifyResponse,
} from './plugins.js';
export type {
  PluginMetadataResponse,
  PreparedPlugin,
  VerificationPlugin,
  VerificationPlugins,
  VerifierCapability,
  VerifySignatureRequest,
} from './plugins.js';
export { verifyBlob } from './blob.js';
export type { BlobInput, BlobVerification, BlobVerificationOptions, BlobVerificationRequest } from './blob.js';
export { verifyImage } from './image.js';
export type {
  DecidingSignature,
  ImageVerification,
  ImageVerificationOptions,
  ImageVerificationRequest,
  IndexReport,
  PlatformResult,
} from './image.js';
export { MAX_PLATFORM_MANIFESTS, isIndexMediaType, parseImageIndex } from './image-index.js';
export type { ImageIndex, PlatformEntry } from './image-index.js';
export { CREATED_ANNOTATION, MAX_ATTESTATION_CANDIDATES, checkAttestations } from './attestations.js';
export type { AttestationCode, AttestationResult, ReferrerLister } from './attestations.js';
