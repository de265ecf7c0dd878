import { IMAGE_ERROR_CODES } from './codes-images.js';

/**
 * The error codes of infrastructure the webhook depends on beside registries — verification
 * plugins that give no answer, the memory it may spend on registry answers (part of ERROR_CODES,
 * codes.ts).
 */
export const INFRASTRUCTURE_ERROR_CODES = {
  ERR_PLUGIN_UNAVAILABLE: {
    summary:
      "A verification plugin gave no answer: it timed out, crashed (killed by a signal, or exited without the contract's error object), could not be started, reported TIMEOUT/THROTTLED, or no plugin slot came free in time. No verdict was reached; the webhook applies its failure policy and caches nothing.",
    remedy:
      'Check the plugin (run it by hand with the request on stdin) and its backend; raise plugins.timeoutSeconds or plugins.maxConcurrent if it is only slow or busy.',
  },
  ERR_DOWNLOAD_BUDGET: {
    summary:
      "The webhook was already buffering as many bytes from registries as it may at once (registries.maxBufferedBytes), or from this image's registry as one registry may (registries.maxBufferedBytesPerRegistry), and no room came free within 2 s; the image is denied, whatever the failure policy.",
    remedy:
      'Retry (the API server or the controller does); if it happens under normal load, raise registries.maxBufferedBytes (and the memory limit with it) or registries.maxBufferedBytesPerRegistry, or add replicas.',
  },
} as const;

/** The codes kept outside codes.ts (each file under the 400-line limit), spread into ERROR_CODES. */
export const SPLIT_ERROR_CODES = { ...IMAGE_ERROR_CODES, ...INFRASTRUCTURE_ERROR_CODES } as const;
