export {
  DirectoryPolicySource,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_FILES,
  DEFAULT_RESCAN_INTERVAL_MS,
} from './directory.js';
export type { DirectoryPolicySourceOptions } from './directory.js';
export { parseManifests } from './manifests.js';
export type { ManifestFileResult } from './manifests.js';
export { Debounce, DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_DELAY_MS } from './debounce.js';
export type { DebounceOptions } from './debounce.js';
