import { canonicalRegistry } from '../../reference/index.js';
import { DOCKER_HUB_KEYS, credentialIdentity, type Credential, type CredentialProvider } from './credentials.js';
import { toCredential, type RequestCredentials } from './pull-secrets.js';

/**
 * Whose credentials a registry call uses, and the identity every cache key carries.
 *
 * Per registry host: the pod's pull secrets first (in the order the pod lists them, the first
 * with an entry for the host wins, as the kubelet tries them), then the configured default
 * provider, else anonymous. The identity is `pod:<secret identity>` or `default:<hash>` or
 * `anonymous`, so a verdict, tag resolution or referrer list fetched with one tenant's secret is
 * never served to a pod without it.
 */

export interface ChosenCredential {
  /** Cache-key identity; never the secret itself. */
  readonly identity: string;
  /** For CallOptions.credentials; undefined = anonymous. */
  readonly provider: CredentialProvider | undefined;
}

type AuthEntry = RequestCredentials['auths'][string];

/** The docker config key forms that name `host`: `host`, `https://host`, `http://host`, with or without `/v1/`, `/v2/`. */
function entryFor(auths: RequestCredentials['auths'], host: string): AuthEntry | undefined {
  const candidates = host === 'docker.io' ? DOCKER_HUB_KEYS : [host];
  for (const key of candidates) {
    if (Object.hasOwn(auths, key)) return auths[key];
  }
  for (const [key, value] of Object.entries(auths)) {
    const bare = key.replace(/^https?:\/\//i, '').replace(/\/+(v1|v2)?\/?$/, '');
    if (bare === host || (host === 'docker.io' && DOCKER_HUB_KEYS.includes(bare))) return value;
    // `host` is canonical (src/reference); a secret may spell the registry otherwise (`LOCALHOST:05000`).
    const canonical = canonicalRegistry(bare);
    if (
      'value' in canonical &&
      (canonical.value === host || (host === 'docker.io' && DOCKER_HUB_KEYS.includes(canonical.value)))
    )
      return value;
  }
  return undefined;
}

const fixed = (credential: Credential): CredentialProvider => ({ get: async () => credential });

const ANONYMOUS: ChosenCredential = Object.freeze({ identity: 'anonymous', provider: undefined });

/** The credential a request brings for one host (the first of its credentials with an entry for it), if any. */
export function chooseRequestCredential(
  host: string,
  requestCredentials: readonly RequestCredentials[],
): ChosenCredential | undefined {
  for (const rc of requestCredentials) {
    const entry = entryFor(rc.auths, host);
    const credential = entry === undefined ? undefined : toCredential(entry);
    if (credential !== undefined) return { identity: `pod:${rc.identity}`, provider: fixed(credential) };
  }
  return undefined;
}

/** Picks the credential for one registry host. */
export async function chooseCredential(
  host: string,
  requestCredentials: readonly RequestCredentials[],
  defaults: CredentialProvider | undefined,
): Promise<ChosenCredential> {
  const fromRequest = chooseRequestCredential(host, requestCredentials);
  if (fromRequest !== undefined) return fromRequest;
  const credential = defaults === undefined ? undefined : await defaults.get(host);
  if (credential === undefined) return ANONYMOUS;
  return { identity: `default:${credentialIdentity(credential)}`, provider: fixed(credential) };
}
