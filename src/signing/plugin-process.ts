// The plugin process runner moved to src/plugin (verification plugins use it too); signing keeps its import path.
export {
  DEFAULT_PLUGIN_TIMEOUT_MS,
  MAX_PLUGIN_OUTPUT_BYTES,
  PLUGIN_CONTRACT_VERSION,
  PluginError,
  locatePlugin,
  pluginExecutablePath,
  runPluginCommand,
} from '../plugin/index.js';
export type { PluginErrorCode, RunPluginOptions } from '../plugin/index.js';
