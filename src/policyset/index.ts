export { Fingerprint, SnapshotFeed } from './feed.js';
export type { FeedInput, PolicySource, SnapshotFeedOptions } from './feed.js';
export { buildSnapshot } from './build.js';
export type { BuildSnapshotInput } from './build.js';
export { matchesSelector, parseLabelSelector } from './selector.js';
export { API_VERSION, GROUP, VERSION, NAMESPACE_NAME_LABEL, ENFORCEMENT_ACTIONS, parseResource } from './resources.js';
export type {
  ParseOutcome,
  Resource,
  PolicyResource,
  StoreResource,
  DataResource,
  NamespaceResource,
  CertificateRef,
} from './resources.js';
export { formatResourceId } from './types.js';
export type * from './types.js';
export { coverage } from './coverage.js';
export type { Coverage } from './coverage.js';
export { NO_STATEMENT_OPTIONS, parseStatementOptions, statementRequirements } from './statement-options.js';
export type { StatementOptions } from './statement-options.js';
