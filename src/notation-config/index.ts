// notation's configuration directory (trustpolicy.oci.json, truststore/, signingkeys.json,
// localkeys/): the files the notation CLI reads and writes, read and written the same way.
export {
  BLOB_TRUST_POLICY_FILE,
  TRUST_POLICY_FILES,
  resolveConfigDir,
  revocationMaterialDir,
  trustStoreDir,
} from './paths.js';
export { findSigningKey, readSigningKeys, resolveKeyPath, signingKeysPath, writeSigningKeys } from './signing-keys.js';
export type { SigningKeyEntry, SigningKeys } from './signing-keys.js';
export { loadTrustPolicyFile, readTrustPolicyText } from './trust-policy-file.js';
export type { LoadedTrustPolicy } from './trust-policy-file.js';
export { existingTrustPolicyFiles, writeTrustPolicy } from './trust-policy-write.js';
export { listTrustStores, loadTrustStores, readTrustStore, readTrustStoreFiles } from './trust-store-dir.js';
export { loadBlobTrustPolicyFile, writeBlobTrustPolicy } from './blob-trust-policy-file.js';
export type { LoadedBlobTrustPolicy } from './blob-trust-policy-file.js';
