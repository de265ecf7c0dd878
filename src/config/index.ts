export { loadServeConfig } from './serve-config.js';
export type { ServeConfig } from './serve-config.js';
