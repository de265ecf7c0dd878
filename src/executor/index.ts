export { Executor } from './executor.js';
export { EXECUTOR_DEFAULTS, resolveOptions } from './options.js';
export type { ExecutorOptions, ResolvedOptions } from './options.js';
export { observeRegistryRequests } from './metrics.js';
export { HostLimiter } from './limiter.js';
export { Budget } from './budget.js';
export type * from './types.js';
export { ReviewScope, REVIEW_LIMIT_CODES } from './review-scope.js';
export type { ReviewLimits } from './review-scope.js';
