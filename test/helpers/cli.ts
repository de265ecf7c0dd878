import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CliIo } from '../../src/cli/io.js';
import { run } from '../../src/cli/run.js';

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for --output json). */
  json<T = Record<string, unknown>>(): T;
}

/** Runs the CLI in-process with captured output and an optional fixed clock. */
export async function cli(
  args: readonly string[],
  options: {
    now?: Date;
    env?: NodeJS.ProcessEnv;
    stdin?: string;
    shutdown?: Promise<void>;
    tty?: NodeJS.WritableStream;
  } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    // Never read the developer's own ~/.docker/config.json in tests.
    env: { DOCKER_CONFIG: '/nonexistent/portcullis-test-docker-config', ...options.env },
    now: () => options.now ?? new Date(),
    // A fake terminal (progress bars are drawn on it) when the test passes one.
    isTty: options.tty !== undefined,
    ...(options.tty === undefined ? {} : { progressStream: options.tty }),
    readStdin: async () => options.stdin ?? '',
    untilShutdown: () => options.shutdown ?? Promise.resolve(),
  };
  const status = await run(args, io);
  return { status, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}

/** A throw-away notation configuration directory. */
export class ConfigDir {
  readonly path = mkdtempSync(join(tmpdir(), 'portcullis-config-'));

  policy(content: string | object, name = 'trustpolicy.oci.json'): this {
    writeFileSync(join(this.path, name), typeof content === 'string' ? content : JSON.stringify(content));
    return this;
  }

  policyFile(file: string, name = 'trustpolicy.oci.json'): this {
    cpSync(file, join(this.path, name));
    return this;
  }

  /** Adds certificate files to truststore/x509/<type>/<store>/. */
  store(type: string, store: string, files: readonly string[]): this {
    const dir = join(this.path, 'truststore', 'x509', type, store);
    mkdirSync(dir, { recursive: true });
    for (const f of files) cpSync(f, join(dir, basename(f)));
    return this;
  }

  storeBytes(type: string, store: string, name: string, bytes: string | Uint8Array): this {
    const dir = join(this.path, 'truststore', 'x509', type, store);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), bytes);
    return this;
  }

  /**
   * Adds a signing key the way notation keeps one: localkeys/<name>.key and .crt (the chain, leaf
   * first) and an entry in signingkeys.json, made the default.
   */
  signingKey(keyPem: string, chainPem: string, name = 'k'): this {
    const keyPath = join(this.path, 'localkeys', `${name}.key`);
    const certPath = join(this.path, 'localkeys', `${name}.crt`);
    mkdirSync(join(this.path, 'localkeys'), { recursive: true });
    writeFileSync(keyPath, keyPem);
    writeFileSync(certPath, chainPem);
    writeFileSync(
      join(this.path, 'signingkeys.json'),
      JSON.stringify({ default: name, keys: [{ name, keyPath, certPath }] }),
    );
    return this;
  }

  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
