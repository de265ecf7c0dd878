// notation's configuration directory (trustpolicy.oci.json, truststore/, signingkeys.json,
// localkeys/): the files the notation CLI reads and writes, read and written the same way.
export { TRUST_POLICY_FILES, resolveConfigDir, trustStoreDir } from './paths.js';
export { findSigningKey, readSigningKeys, resolveKeyPath, signingKeysPath, writeSigningKeys } from './signing-keys.js';
export type { SigningKeyEntry, SigningKeys } from './signing-keys.js';
export { loadTrustPolicyFile, readTrustPolicyText } from './trust-policy-file.js';
export type { LoadedTrustPolicy } from './trust-policy-file.js';
export { existingTrustPolicyFiles, writeTrustPolicy } from './trust-policy-write.js';
export { listTrustStores, loadTrustStores, readTrustStore, readTrustStoreFiles } from './trust-store-dir.js';
