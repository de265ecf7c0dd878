export { JsonLines, recordLoggerOf } from './json-lines.js';
export type { LineLevel, RecordLogger } from './json-lines.js';
export { createLogging } from './logging.js';
export type { Logging, LoggingOptions } from './logging.js';
