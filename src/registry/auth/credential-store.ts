import { PortcullisError } from '../../errors/index.js';
import { printable } from '../operation.js';
import { isDockerHub } from './credentials.js';
import {
  dockerConfigPath,
  execCredentialHelper,
  helperServerUrl,
  lookup,
  readDockerConfigDocument,
  storeDockerLogin,
  writeDockerConfigDocument,
  type CredentialHelperOptions,
  type DockerConfigLocation,
} from './docker-config.js';

/** Where `login` put the credentials. */
export type StoredLogin =
  | { readonly where: 'helper'; readonly helper: string; readonly path: string }
  | { readonly where: 'file'; readonly path: string };

function configKey(host: string): string {
  return isDockerHub(host) ? 'https://index.docker.io/v1/' : host;
}

/**
 * Stores credentials as `docker login` does: through the config's `credHelpers` entry for the
 * registry, else its `credsStore`, with the docker-credential-* `store` action (the config file
 * then only records the registry, with an empty entry); else base64 in `auths` of config.json.
 */
export async function saveLogin(
  host: string,
  credential: { username: string; password: string },
  location: DockerConfigLocation & { helper?: CredentialHelperOptions } = {},
): Promise<StoredLogin> {
  const path = dockerConfigPath(location);
  const { doc, config } = await readDockerConfigDocument(path);
  const helper = lookup(config.credHelpers, host) ?? config.credsStore;
  if (helper === undefined) return { where: 'file', path: await storeDockerLogin(host, credential, { path }) };
  const serverUrl = helperServerUrl(host);
  const input = JSON.stringify({ ServerURL: serverUrl, Username: credential.username, Secret: credential.password });
  const env = location.helper?.env ?? location.env;
  const { code, stdout, stderr } = await execCredentialHelper(helper, 'store', input, serverUrl, {
    ...location.helper,
    ...(env === undefined ? {} : { env }),
  });
  if (code !== 0)
    throw new PortcullisError(
      'ERR_CREDENTIAL_HELPER',
      `docker-credential-${helper} store for ${serverUrl} exited with status ${code}: ${printable(`${stdout} ${stderr}`, 200)}`,
    );
  // As docker does: the file names the registry (no secret), and no stale plaintext entry remains.
  const auths =
    typeof doc.auths === 'object' && doc.auths !== null && !Array.isArray(doc.auths)
      ? { ...(doc.auths as Record<string, unknown>) }
      : {};
  auths[configKey(host)] = {};
  doc.auths = auths;
  await writeDockerConfigDocument(path, doc);
  return { where: 'helper', helper, path };
}

/**
 * `logout`: erases the registry's credentials from its helper (credHelpers entry or credsStore)
 * and removes its `auths` entries from config.json. Returns what was removed (empty: there was
 * nothing to remove).
 */
export async function removeLogin(
  host: string,
  location: DockerConfigLocation & { helper?: CredentialHelperOptions } = {},
): Promise<string[]> {
  const path = dockerConfigPath(location);
  const { doc, config } = await readDockerConfigDocument(path);
  const removed: string[] = [];
  const helper = lookup(config.credHelpers, host) ?? config.credsStore;
  if (helper !== undefined) {
    const serverUrl = helperServerUrl(host);
    const env = location.helper?.env ?? location.env;
    const { code, stdout, stderr } = await execCredentialHelper(helper, 'erase', serverUrl, serverUrl, {
      ...location.helper,
      ...(env === undefined ? {} : { env }),
    });
    if (code === 0) removed.push(`docker-credential-${helper}`);
    else if (!/not found/i.test(`${stdout} ${stderr}`))
      throw new PortcullisError(
        'ERR_CREDENTIAL_HELPER',
        `docker-credential-${helper} erase for ${serverUrl} exited with status ${code}: ${printable(`${stdout} ${stderr}`, 200)}`,
      );
  }
  const auths =
    typeof doc.auths === 'object' && doc.auths !== null && !Array.isArray(doc.auths)
      ? { ...(doc.auths as Record<string, unknown>) }
      : undefined;
  if (auths !== undefined) {
    const keys = Object.keys(auths).filter((k) => lookup({ [k]: true }, host) === true);
    if (keys.length > 0) {
      for (const k of keys) delete auths[k];
      doc.auths = auths;
      await writeDockerConfigDocument(path, doc);
      removed.push(path);
    }
  }
  return removed;
}
