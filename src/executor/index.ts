export { Executor } from './executor.js';
export { EXECUTOR_DEFAULTS, resolveOptions } from './options.js';
export type { ExecutorOptions, FailurePolicy, ResolvedOptions } from './options.js';
export { ResourcePullSecretResolver, chooseCredential, credentialsFromSecret, toCredential } from './credentials.js';
export type { ChosenCredential, PullSecretResolver } from './credentials.js';
export { observeRegistryRequests } from './metrics.js';
export { HostLimiter } from './limiter.js';
export { Budget } from './budget.js';
export type * from './types.js';
