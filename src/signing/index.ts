export { parseExpiryDuration } from './duration.js';
export { EMPTY_CONFIG, buildSignatureManifest } from './signature-manifest.js';
export { LocalKeySigner, PluginSigner, signerForKey } from './signer.js';
export { generateTestCertificate } from './test-certificate.js';
export { TimestampClient } from './timestamp-client.js';
export type { BuiltSignatureManifest } from './signature-manifest.js';
export type { SignResult, Signer } from './signer.js';
export { blobSignaturePath, signBlob, signatureMediaTypeOfFile } from './blob.js';
export type { BlobSigner } from './blob.js';
