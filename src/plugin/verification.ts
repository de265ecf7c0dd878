import { PortcullisError } from '../errors/index.js';
import type {
  PluginMetadataResponse,
  VerificationPlugin,
  VerificationPlugins,
  VerifySignatureRequest,
} from '../verify/index.js';
import { PLUGIN_CONTRACT_VERSION } from '../verify/index.js';
import { dirname } from 'node:path';
import { pluginEnvironment } from './environment.js';
import { PluginError, isValidPluginName, locatePluginIn, runPluginCommand } from './process.js';

export interface ProcessVerificationPluginsOptions {
  /** The plugin directory: `<directory>/<name>/notation-<name>` (the CLI's is `<config-dir>/plugins`). */
  readonly directory: string;
  /** Deadline of each plugin command (default 10 s); the process (group) is killed at it. */
  readonly timeoutMs?: number;
  /** Cap on a plugin's standard output (default 1 MiB: verification answers are a few hundred bytes). */
  readonly maxOutputBytes?: number;
  /** Variables passed beyond the base ones (environment.ts), by name. */
  readonly environment?: readonly string[];
  /** Where those variables are read (default process.env). */
  readonly sourceEnvironment?: Readonly<Record<string, string | undefined>>;
  /** Plugin processes running at once (default 4); more wait, within their deadline. */
  readonly maxConcurrent?: number;
}

export const VERIFICATION_PLUGIN_DEFAULTS = {
  timeoutMs: 10_000,
  maxOutputBytes: 1024 * 1024,
  maxConcurrent: 4,
} as const;

/** A counting semaphore whose waiters give up at a deadline. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async take(timeoutMs: number, what: string): Promise<() => void> {
    if (this.#free > 0) {
      this.#free--;
      return () => this.#give();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve(() => this.#give());
      };
      const timer = setTimeout(() => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(new PortcullisError('ERR_PLUGIN_UNAVAILABLE', `${what} waited ${timeoutMs} ms for a free plugin slot`));
      }, timeoutMs);
      this.#waiting.push(grant);
    });
  }

  #give(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}

/**
 * Verification plugins installed as notation installs them, run as processes per the plugin
 * contract: each command with a deadline, a cap on what it may write, its own directory as the
 * working directory and an environment limited to what a program needs (environment.ts).
 */
export class ProcessVerificationPlugins implements VerificationPlugins {
  readonly directory: string;
  readonly #timeoutMs: number;
  readonly #maxOutputBytes: number;
  readonly #env: Record<string, string>;
  readonly #slots: Slots;

  constructor(options: ProcessVerificationPluginsOptions) {
    this.directory = options.directory;
    this.#timeoutMs = options.timeoutMs ?? VERIFICATION_PLUGIN_DEFAULTS.timeoutMs;
    this.#maxOutputBytes = options.maxOutputBytes ?? VERIFICATION_PLUGIN_DEFAULTS.maxOutputBytes;
    this.#env = pluginEnvironment(options.sourceEnvironment ?? process.env, options.environment ?? []);
    this.#slots = new Slots(options.maxConcurrent ?? VERIFICATION_PLUGIN_DEFAULTS.maxConcurrent);
  }

  async find(name: string): Promise<VerificationPlugin | undefined> {
    // The name comes from the signature, so from whoever signed: only a plain name is looked up.
    if (!isValidPluginName(name)) {
      throw new PortcullisError(
        'ERR_PLUGIN_REQUIRED',
        `the signature names verification plugin ${JSON.stringify(name)}, which is not a valid plugin name`,
      );
    }
    let path: string;
    try {
      path = await locatePluginIn(this.directory, name);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      if (cause?.code === 'ENOENT' || cause?.code === 'ENOTDIR') return undefined;
      throw new PortcullisError(
        'ERR_PLUGIN_REQUIRED',
        `error while locating the verification plugin "${name}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    const run = async (command: string, request: unknown): Promise<Record<string, unknown>> => {
      const release = await this.#slots.take(this.#timeoutMs, `plugin "${name}" command ${command}`);
      try {
        return await runPluginCommand(name, path, command, request, {
          timeoutMs: this.#timeoutMs,
          maxOutputBytes: this.#maxOutputBytes,
          env: this.#env,
          cwd: dirname(path),
        });
      } catch (error) {
        // No answer (timeout, crash, not startable) is no verdict on the signature: the caller
        // (the webhook's executor) hands it to the failure policy and caches nothing.
        if (error instanceof PluginError && error.unavailable) {
          throw new PortcullisError('ERR_PLUGIN_UNAVAILABLE', error.message, {
            cause: error,
            context: { subject: name },
          });
        }
        throw error;
      } finally {
        release();
      }
    };
    return {
      metadata: (pluginConfig): Promise<PluginMetadataResponse> =>
        run('get-plugin-metadata', { contractVersion: PLUGIN_CONTRACT_VERSION, pluginConfig: { ...pluginConfig } }),
      verifySignature: (request: VerifySignatureRequest) => run('verify-signature', request),
    };
  }
}
