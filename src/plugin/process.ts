import { spawn, type ChildProcess } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import { parseStrictJson } from '../util/index.js';

/**
 * Running a Notary plugin executable (specs/plugin-extensibility.md; notary-spec-digest §13), for
 * signing (src/signing) and verification (verification.ts) alike:
 * `<plugin directory>/<name>/notation-<name> <command>` (the CLI's plugin directory is
 * `<configDir>/plugins`), the JSON request on stdin, the JSON response on stdout with exit status
 * 0; on failure exit status ≠ 0 and, optionally, `{errorCode, errorMessage, errorMetadata}` on
 * stderr. Output is capped at 64 MiB (less where the caller asks), every run has a deadline.
 */

export const PLUGIN_CONTRACT_VERSION = '1.0';
export const DEFAULT_PLUGIN_TIMEOUT_MS = 60_000;
export const MAX_PLUGIN_OUTPUT_BYTES = 64 * 1024 * 1024;
/** stderr carries a small error object; anything beyond this is cut (not an error). */
const MAX_PLUGIN_STDERR_BYTES = 1024 * 1024;

/** Plugin names notation accepts as directory and file names: no separators, no dot-dot. */
const PLUGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The error codes the plugin contract defines for stderr. */
export type PluginErrorCode =
  | 'VALIDATION_ERROR'
  | 'UNSUPPORTED_CONTRACT_VERSION'
  | 'ACCESS_DENIED'
  | 'TIMEOUT'
  | 'THROTTLED'
  | 'ERROR'
  | (string & {});

/** Contract error codes that say the plugin's own backend did not answer, not that the request is bad. */
const TRANSIENT_PLUGIN_ERRORS: ReadonlySet<string> = new Set(['TIMEOUT', 'THROTTLED']);

/**
 * ERR_PLUGIN_FAILED carrying what the plugin said, when it said anything. `unavailable`: the
 * plugin gave no answer at all — it timed out, could not be started, was killed by a signal,
 * exited non-zero without the contract's error object (a crash: a panic, an uncaught exception),
 * or reported TIMEOUT/THROTTLED — as opposed to an answer that refuses or breaks the contract.
 */
export class PluginError extends PortcullisError {
  readonly plugin: string;
  readonly command: string;
  readonly pluginErrorCode: PluginErrorCode | undefined;
  readonly pluginErrorMessage: string | undefined;
  readonly unavailable: boolean;

  constructor(
    plugin: string,
    command: string,
    message: string,
    details: { errorCode?: string; errorMessage?: string; cause?: unknown; unavailable?: boolean } = {},
  ) {
    super('ERR_PLUGIN_FAILED', message, {
      ...(details.cause === undefined ? {} : { cause: details.cause }),
      context: { subject: plugin },
    });
    this.name = 'PluginError';
    this.plugin = plugin;
    this.command = command;
    this.pluginErrorCode = details.errorCode;
    this.pluginErrorMessage = details.errorMessage;
    this.unavailable =
      details.unavailable ?? (details.errorCode !== undefined && TRANSIENT_PLUGIN_ERRORS.has(details.errorCode));
  }
}

/** The plugin directory of a notation configuration directory. */
export function pluginDirectory(configDir: string): string {
  return join(configDir, 'plugins');
}

export function pluginExecutablePath(configDir: string, name: string): string {
  return join(pluginDirectory(configDir), name, `notation-${name}`);
}

/** True for names notation accepts as a plugin's directory and file name (no separators, no dot-dot). */
export function isValidPluginName(name: string): boolean {
  return PLUGIN_NAME.test(name) && !name.includes('..');
}

/**
 * Finds an installed plugin: the executable must be a regular file (not a symlink, as notation
 * requires) with an execute bit. Throws ERR_PLUGIN_NOT_FOUND otherwise.
 */
export async function locatePlugin(configDir: string, name: string): Promise<string> {
  return locatePluginIn(pluginDirectory(configDir), name);
}

/** locatePlugin for a plugin directory given directly (the webhook's `plugins.directory`). */
export async function locatePluginIn(directory: string, name: string): Promise<string> {
  if (!isValidPluginName(name)) {
    throw new PortcullisError('ERR_INPUT_INVALID', `plugin name ${JSON.stringify(name)} is not valid`);
  }
  const path = join(directory, name, `notation-${name}`);
  let stats;
  try {
    stats = await lstat(path);
  } catch (cause) {
    throw new PortcullisError('ERR_PLUGIN_NOT_FOUND', `plugin "${name}" is not installed: ${path} does not exist`, {
      cause,
      context: { subject: path },
    });
  }
  if (stats.isSymbolicLink()) {
    throw new PortcullisError(
      'ERR_PLUGIN_NOT_FOUND',
      `plugin "${name}": ${path} is a symbolic link; plugins must be regular files`,
      {
        context: { subject: path },
      },
    );
  }
  if (!stats.isFile()) {
    throw new PortcullisError('ERR_PLUGIN_NOT_FOUND', `plugin "${name}": ${path} is not a regular file`, {
      context: { subject: path },
    });
  }
  if ((stats.mode & 0o111) === 0) {
    throw new PortcullisError('ERR_PLUGIN_NOT_FOUND', `plugin "${name}": ${path} is not executable`, {
      context: { subject: path },
    });
  }
  return path;
}

export interface RunPluginOptions {
  /** Kill the plugin after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Cap on stdout (default and maximum 64 MiB). */
  readonly maxOutputBytes?: number;
  /** Environment of the plugin process (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory of the plugin process (default: this process's). */
  readonly cwd?: string;
}

/**
 * Runs `<path> <command>` with `request` as JSON on stdin and returns the parsed JSON object
 * from stdout. Non-zero exit, a signal, a timeout, oversized or non-JSON output all throw
 * PluginError (ERR_PLUGIN_FAILED); a contract error on stderr is carried in the error.
 */
export function runPluginCommand(
  name: string,
  path: string,
  command: string,
  request: unknown,
  options: RunPluginOptions = {},
): Promise<Record<string, unknown>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  const maxOutput = Math.min(options.maxOutputBytes ?? MAX_PLUGIN_OUTPUT_BYTES, MAX_PLUGIN_OUTPUT_BYTES);
  const what = `plugin "${name}" command ${command}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: PluginError | undefined, value?: Record<string, unknown>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined) {
        if (child.exitCode === null && child.signalCode === null) killGroup(child);
        reject(error);
      } else {
        resolve(value as Record<string, unknown>);
      }
    };
    const child = spawn(path, [command], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      shell: false,
      windowsHide: true,
      // Its own process group, so that a timeout also ends what the plugin started (a shell
      // script's `sleep`), not only the plugin.
      detached: process.platform !== 'win32',
    });
    const timer = setTimeout(
      () => finish(new PluginError(name, command, `${what} timed out after ${timeoutMs} ms`, { unavailable: true })),
      timeoutMs,
    );
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxOutput) {
        finish(new PluginError(name, command, `${what} wrote more than ${maxOutput} bytes`));
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderrBytes < MAX_PLUGIN_STDERR_BYTES) stderr.push(chunk);
      stderrBytes += chunk.length;
    });
    child.on('error', (cause) =>
      finish(new PluginError(name, command, `${what} cannot be run: ${cause.message}`, { cause, unavailable: true })),
    );
    // A plugin that exits without reading stdin makes the write fail with EPIPE; its exit status decides.
    child.stdin.on('error', () => undefined);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const text = Buffer.concat(stderr).toString('utf8');
        const status = signal === null ? `exit status ${String(code)}` : `signal ${signal}`;
        const reported = parsePluginError(text);
        if (reported !== undefined) {
          const message = `${what} failed (${status}): ${reported.errorCode}: ${reported.errorMessage}`;
          // Killed by a signal, it did not mean what it wrote: it crashed (or was killed) on the way.
          finish(
            new PluginError(name, command, message, { ...reported, ...(signal === null ? {} : { unavailable: true }) }),
          );
        } else {
          const detail = text.trim() === '' ? '' : `: ${text.trim().slice(0, 1000)}`;
          finish(new PluginError(name, command, `${what} failed (${status})${detail}`, { unavailable: true }));
        }
        return;
      }
      let parsed: unknown;
      try {
        // Strict, as every document from a signer: notation's Go reader would fold names differing in case.
        parsed = parseStrictJson(Buffer.concat(stdout), { what: `${what} response` });
      } catch (cause) {
        finish(
          new PluginError(name, command, `${what} returned a response that is not JSON: ${(cause as Error).message}`, {
            cause,
          }),
        );
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        finish(new PluginError(name, command, `${what} returned a response that is not a JSON object`));
        return;
      }
      finish(undefined, parsed as Record<string, unknown>);
    });
    child.stdin.end(JSON.stringify(request));
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

function parsePluginError(text: string): { errorCode: string; errorMessage: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { errorCode, errorMessage } = value as { errorCode?: unknown; errorMessage?: unknown };
  if (typeof errorCode !== 'string' || errorCode === '') return undefined;
  return { errorCode, errorMessage: typeof errorMessage === 'string' ? errorMessage : '' };
}
