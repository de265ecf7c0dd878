// The CLI's public face, for scripts and tests (nothing in src imports the CLI). The installed
// entry (main.cts) loads the command line and each command lazily and never this file.
export { GENERATED_MARKER, commandHelps, renderCliDoc, renderCliReference } from './cli-doc.js';
export type { CliIo } from './io.js';
export { run } from './run.js';
export { startWebhook } from './serve.js';
export type { RunningWebhook, ServeOptions } from './serve.js';
