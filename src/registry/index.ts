export { RegistryClient, DEFAULT_BLOB_MAX_BYTES, DEFAULT_TIMEOUT_MS, MANIFEST_ACCEPT } from './client.js';
export { BodyBudget, DEFAULT_BODY_BUDGET_BYTES } from './body-budget.js';
export type { BodyBudgetOptions } from './body-budget.js';
export type {
  CallOptions,
  FetchedManifest,
  ManifestRef,
  PushedManifest,
  ReferrersCursor,
  ReferrersPage,
  RegistryClientOptions,
  RegistryReader,
  RepositoryRef,
} from './client.js';
export type { UploadOptions } from './upload.js';
export { apiHost, isLoopbackHost, parseRetryAfter } from './transport.js';
export type { RegistryTlsOptions, RequestInfo, TransportOptions } from './transport.js';
export { parseChallengeHeader, parseChallenges, pickChallenge } from './auth/challenge.js';
export type { Challenge } from './auth/challenge.js';
export { TokenCache } from './auth/token-cache.js';
export { repositoryScope } from './auth/authenticator.js';
export { ANONYMOUS, StaticCredentials, credentialIdentity } from './auth/credentials.js';
export type { Credential, CredentialProvider } from './auth/credentials.js';
export {
  DockerConfigCredentials,
  dockerConfigPath,
  helperServerUrl,
  runCredentialHelper,
  storeDockerLogin,
} from './auth/docker-config.js';
export type {
  CredentialHelperOptions,
  DockerConfigCredentialsOptions,
  DockerConfigLocation,
} from './auth/docker-config.js';
export { referrersTag } from './referrers.js';
export { checkLogin } from './login.js';
export type { LoginCheck } from './login.js';
export { saveLogin, removeLogin } from './auth/credential-store.js';
export type { StoredLogin } from './auth/credential-store.js';
export { execCredentialHelper } from './auth/docker-config.js';
export { DnsLookupError, HostResolver, isDnsLookupError } from './dns.js';
export type { HostResolverOptions, ResolvedAddress } from './dns.js';
export {
  ResourcePullSecretResolver,
  credentialsFromDockerSecret,
  credentialsFromSecret,
  toCredential,
} from './auth/pull-secrets.js';
export type { PullSecretResolver, RequestCredentials } from './auth/pull-secrets.js';
export { chooseCredential, chooseRequestCredential } from './auth/choose.js';
export type { ChosenCredential } from './auth/choose.js';
