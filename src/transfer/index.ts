export type { ContentSource, ContentTarget } from './endpoint.js';
export { RegistryEndpoint, counting } from './registry-endpoint.js';
export { LayoutSource, LayoutTarget } from './layout-endpoint.js';
export { GraphCopier } from './copier.js';
export type { CopiedItem, CopyEvents, CopyOptions, CopyReport } from './copier.js';
export { formatPlatform, parsePlatform, selectPlatform, INDEX_TYPES } from './platform.js';
export type { Platform } from './platform.js';
export { pushReferrerArtifact } from './push-artifact.js';
export type { ArtifactToPush } from './push-artifact.js';
