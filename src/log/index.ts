export { BatchedDestination } from './batched-destination.js';
export type { BatchedDestinationOptions, LineSink } from './batched-destination.js';
export { JsonLines, recordLoggerOf } from './json-lines.js';
export type { LineLevel, RecordLogger } from './json-lines.js';
export { createLogging } from './logging.js';
export type { Logging, LoggingOptions } from './logging.js';
