export {
  DEFAULT_PLUGIN_TIMEOUT_MS,
  MAX_PLUGIN_OUTPUT_BYTES,
  PLUGIN_CONTRACT_VERSION,
  PluginError,
  isValidPluginName,
  locatePlugin,
  locatePluginIn,
  pluginDirectory,
  pluginExecutablePath,
  runPluginCommand,
} from './process.js';
export type { PluginErrorCode, RunPluginOptions } from './process.js';
export { DEFAULT_PATH, PLUGIN_BASE_ENVIRONMENT, pluginEnvironment } from './environment.js';
export { ProcessVerificationPlugins, VERIFICATION_PLUGIN_DEFAULTS } from './verification.js';
export type { ProcessVerificationPluginsOptions } from './verification.js';
