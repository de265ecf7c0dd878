import { spawn } from 'node:child_process';
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PortcullisError } from '../../errors/index.js';
import { canonicalRegistry } from '../../reference/index.js';
import { printable } from '../operation.js';
import { DOCKER_HUB_KEYS, isDockerHub, type Credential, type CredentialProvider } from './credentials.js';
import { HelperAnswers } from './helper-cache.js';

/**
 * Docker's client configuration (`config.json`) as a credential source, the way Docker, oras
 * and notation read it: `credHelpers[host]` first, then `credsStore`, then `auths[host]`
 * (base64 `auth` = `user:password`, or `username`/`password`, or `identitytoken`). Docker Hub
 * is stored under `https://index.docker.io/v1/`.
 */

/** The config file is small; anything larger is not a Docker config. */
const CONFIG_MAX_BYTES = 1024 * 1024;
/** A credential helper answers with one small JSON object. */
const HELPER_OUTPUT_MAX_BYTES = 64 * 1024;
const HELPER_TIMEOUT_MS = 5_000;

export interface DockerConfigLocation {
  /** Path of config.json. If unset: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  readonly path?: string;
  /** Environment to read DOCKER_CONFIG and HOME from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function dockerConfigPath(location: DockerConfigLocation = {}): string {
  if (location.path !== undefined) return location.path;
  const env = location.env ?? process.env;
  const dir = env.DOCKER_CONFIG;
  if (dir !== undefined && dir !== '') return join(dir, 'config.json');
  return join(env.HOME ?? homedir(), '.docker', 'config.json');
}

interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

export interface DockerConfig {
  readonly auths: Readonly<Record<string, AuthEntry>>;
  readonly credHelpers: Readonly<Record<string, string>>;
  readonly credsStore?: string;
}

function configError(path: string, message: string, cause?: unknown): PortcullisError {
  return new PortcullisError('ERR_CONFIG_INVALID', `docker config "${path}": ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    context: { subject: path },
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseConfig(path: string, text: string): DockerConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw configError(path, 'is not valid JSON', cause);
  }
  if (!isRecord(doc)) throw configError(path, 'must be a JSON object');
  const auths: Record<string, AuthEntry> = {};
  if (doc.auths !== undefined) {
    if (!isRecord(doc.auths)) throw configError(path, '"auths" must be an object');
    for (const [key, entry] of Object.entries(doc.auths)) {
      if (!isRecord(entry)) throw configError(path, `auths["${printable(key)}"] must be an object`);
      const out: Record<string, string> = {};
      for (const field of ['auth', 'username', 'password', 'identitytoken'] as const) {
        const value = entry[field];
        if (value === undefined || value === '') continue;
        if (typeof value !== 'string') throw configError(path, `auths["${printable(key)}"].${field} must be a string`);
        out[field] = value;
      }
      auths[key] = out;
    }
  }
  const credHelpers: Record<string, string> = {};
  if (doc.credHelpers !== undefined) {
    if (!isRecord(doc.credHelpers)) throw configError(path, '"credHelpers" must be an object');
    for (const [key, helper] of Object.entries(doc.credHelpers)) {
      if (typeof helper !== 'string') throw configError(path, `credHelpers["${printable(key)}"] must be a string`);
      credHelpers[key] = helper;
    }
  }
  if (doc.credsStore !== undefined && typeof doc.credsStore !== 'string')
    throw configError(path, '"credsStore" must be a string');
  return {
    auths,
    credHelpers,
    ...(typeof doc.credsStore === 'string' && doc.credsStore !== '' ? { credsStore: doc.credsStore } : {}),
  };
}

/** `https://reg.io/v1/` → `reg.io`: Docker accepts URLs as auths keys. */
function normaliseKey(key: string): string {
  return key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '');
}

export function lookup<T>(map: Readonly<Record<string, T>>, host: string): T | undefined {
  if (Object.hasOwn(map, host)) return map[host];
  if (isDockerHub(host)) {
    for (const key of DOCKER_HUB_KEYS) if (Object.hasOwn(map, key)) return map[key];
    for (const [key, value] of Object.entries(map)) if (isDockerHub(normaliseKey(key))) return value;
    return undefined;
  }
  for (const [key, value] of Object.entries(map)) if (normaliseKey(key) === host) return value;
  // References name registries canonically (src/reference); the file may spell them otherwise.
  const wanted = canonicalRegistry(host);
  if ('error' in wanted) return undefined;
  for (const [key, value] of Object.entries(map)) {
    const canonical = canonicalRegistry(normaliseKey(key));
    if ('value' in canonical && canonical.value === wanted.value) return value;
  }
  return undefined;
}

function fromAuthEntry(path: string, host: string, entry: AuthEntry): Credential | undefined {
  if (entry.identitytoken !== undefined) return { identityToken: entry.identitytoken };
  if (entry.auth !== undefined) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw configError(path, `auths entry for ${host}: "auth" is not base64 of "user:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  return undefined;
}

/** The server URL credential helpers are asked about (Docker Hub's is the legacy v1 URL). */
export function helperServerUrl(host: string): string {
  return isDockerHub(host) ? 'https://index.docker.io/v1/' : host;
}

export interface CredentialHelperOptions {
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs `docker-credential-<name> get` with the server URL on stdin and parses
 * `{ServerURL, Username, Secret}`. "credentials not found" is undefined, not an error.
 * A Username of `<token>` means Secret is an identity token.
 */
/** The docker-credential-* actions (store and erase take their input on stdin, as get does). */
export type CredentialHelperAction = 'get' | 'store' | 'erase';

/**
 * Runs `docker-credential-<name> <action>` with `input` on stdin, in its own process group,
 * killed at the deadline; output capped. Returns the exit status and what it printed.
 */
export async function execCredentialHelper(
  name: string,
  action: CredentialHelperAction,
  input: string,
  subject: string,
  options: CredentialHelperOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new PortcullisError(
      'ERR_CREDENTIAL_HELPER',
      `credential helper name "${printable(name)}" is not a plain program name`,
    );
  }
  const program = `docker-credential-${name}`;
  const timeoutMs = options.timeoutMs ?? HELPER_TIMEOUT_MS;
  const maxBytes = options.maxOutputBytes ?? HELPER_OUTPUT_MAX_BYTES;
  const fail = (message: string, cause?: unknown): PortcullisError =>
    new PortcullisError('ERR_CREDENTIAL_HELPER', `${program} ${action} for ${subject}: ${message}`, {
      ...(cause === undefined ? {} : { cause }),
      context: { subject },
    });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    // Own process group, so a helper's children (a shell's `sleep`, a keychain tool) die with it.
    const child = spawn(program, [action], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...(options.env ?? process.env) } as NodeJS.ProcessEnv,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let settled = false;
    const stop = (failure: PortcullisError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      child.stdout.destroy();
      child.stderr.destroy();
      reject(failure);
    };
    const timer = setTimeout(() => stop(fail(`no answer within ${timeoutMs} ms`)), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxBytes) stop(fail(`printed more than ${maxBytes} bytes`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes <= 4096) err.push(chunk);
    });
    child.on('error', (cause) => {
      stop(
        fail(
          (cause as NodeJS.ErrnoException).code === 'ENOENT' ? `${program} is not on PATH` : (cause as Error).message,
          cause,
        ),
      );
    });
    child.on('close', (exit) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code: exit, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

export async function runCredentialHelper(
  name: string,
  serverUrl: string,
  options: CredentialHelperOptions = {},
): Promise<Credential | undefined> {
  const { code, stdout, stderr } = await execCredentialHelper(name, 'get', serverUrl, serverUrl, options);
  const fail = (message: string, cause?: unknown): PortcullisError =>
    new PortcullisError('ERR_CREDENTIAL_HELPER', `docker-credential-${name} get for ${serverUrl}: ${message}`, {
      ...(cause === undefined ? {} : { cause }),
      context: { subject: serverUrl },
    });
  if (code !== 0) {
    const said = `${stdout} ${stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    throw fail(`exited with status ${code}: ${printable(said, 200)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (cause) {
    throw fail('output is not JSON', cause);
  }
  if (!isRecord(doc) || typeof doc.Username !== 'string' || typeof doc.Secret !== 'string')
    throw fail('output lacks string Username and Secret');
  if (doc.Secret === '') return undefined;
  if (doc.Username === '<token>') return { identityToken: doc.Secret };
  return { username: doc.Username, password: doc.Secret };
}

export interface DockerConfigCredentialsOptions extends DockerConfigLocation {
  readonly helper?: CredentialHelperOptions;
  /** Clock for the helper answer cache (default Date.now). */
  readonly now?: () => number;
  /** Bound of the helper answer cache (default 1,000: helper-cache.ts). */
  readonly helperCacheMaxEntries?: number;
}

/** Credentials from a Docker config.json (read once at load; helpers asked on demand). */
export class DockerConfigCredentials implements CredentialProvider {
  readonly path: string;
  readonly #config: DockerConfig;
  readonly #options: DockerConfigCredentialsOptions;
  readonly #helperCache: HelperAnswers;

  private constructor(path: string, config: DockerConfig, options: DockerConfigCredentialsOptions) {
    this.path = path;
    this.#config = config;
    this.#options = options;
    this.#helperCache = new HelperAnswers(options.helperCacheMaxEntries);
  }

  /** Loads the config; a missing file means no credentials. */
  static async load(options: DockerConfigCredentialsOptions = {}): Promise<DockerConfigCredentials> {
    const path = dockerConfigPath(options);
    let text: string;
    try {
      const bytes = await readFile(path);
      if (bytes.length > CONFIG_MAX_BYTES) throw configError(path, `is over ${CONFIG_MAX_BYTES} bytes`);
      text = bytes.toString('utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT')
        return new DockerConfigCredentials(path, { auths: {}, credHelpers: {} }, options);
      if (cause instanceof PortcullisError) throw cause;
      throw configError(path, `cannot be read: ${(cause as Error).message}`, cause);
    }
    return new DockerConfigCredentials(path, parseConfig(path, text), options);
  }

  async get(host: string): Promise<Credential | undefined> {
    const helper = lookup(this.#config.credHelpers, host) ?? this.#config.credsStore;
    if (helper !== undefined) {
      const fromHelper = await this.#askHelper(helper, helperServerUrl(host));
      if (fromHelper !== undefined) return fromHelper;
    }
    const entry = lookup(this.#config.auths, host);
    return entry === undefined ? undefined : fromAuthEntry(this.path, host, entry);
  }

  #askHelper(helper: string, serverUrl: string): Promise<Credential | undefined> {
    const env = this.#options.helper?.env ?? this.#options.env;
    return this.#helperCache.get(`${helper}\n${serverUrl}`, (this.#options.now ?? Date.now)(), () =>
      runCredentialHelper(helper, serverUrl, { ...this.#options.helper, ...(env === undefined ? {} : { env }) }),
    );
  }

  /** Helper answers held (for tests and diagnostics). */
  get helperCacheSize(): number {
    return this.#helperCache.size;
  }
}

/**
 * Stores `auths[host].auth` in a Docker config file for `portcullis login`, keeping every other
 * setting. A new file is created with mode 0600 (its directory 0700); the write is atomic.
 */
export async function storeDockerLogin(
  host: string,
  credential: { username: string; password: string },
  location: DockerConfigLocation = {},
): Promise<string> {
  if (credential.username.includes(':'))
    throw new PortcullisError('ERR_INPUT_INVALID', 'a registry username cannot contain ":"');
  const path = dockerConfigPath(location);
  const { doc } = await readDockerConfigDocument(path);
  const key = isDockerHub(host) ? 'https://index.docker.io/v1/' : host;
  const auths = isRecord(doc.auths) ? { ...doc.auths } : {};
  auths[key] = { auth: Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64') };
  doc.auths = auths;
  await writeDockerConfigDocument(path, doc);
  return path;
}

/** The config file as JSON (every setting kept for rewriting) and as read; a missing file is an empty one. */
export async function readDockerConfigDocument(
  path: string,
): Promise<{ doc: Record<string, unknown>; config: DockerConfig }> {
  try {
    const bytes = await readFile(path);
    if (bytes.length > CONFIG_MAX_BYTES) throw configError(path, `is over ${CONFIG_MAX_BYTES} bytes`);
    const text = bytes.toString('utf8');
    const config = parseConfig(path, text);
    return { doc: JSON.parse(text) as Record<string, unknown>, config };
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { doc: {}, config: { auths: {}, credHelpers: {} } };
    if (cause instanceof PortcullisError) throw cause;
    throw configError(path, `cannot be read: ${(cause as Error).message}`, cause);
  }
}

/** Writes the config atomically; a new file gets mode 0600 (its directory 0700). */
export async function writeDockerConfigDocument(path: string, doc: Record<string, unknown>): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(doc, null, '\t')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (cause) {
    await unlink(temporary).catch(() => undefined);
    throw configError(path, `cannot be written: ${(cause as Error).message}`, cause);
  }
}
