import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { startWebhook, type RunningWebhook } from '../../src/cli/serve.js';
import { DEFAULT_SERVE_CONFIG, type ServeConfig } from '../../src/config/serve-config.js';
import { admissionReview, pod } from '../../src/http/testing/reviews.js';

/** What /validate and /mutate answer (the AdmissionReview's response). */
export interface Admission {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly message: string };
  readonly warnings?: string[];
  readonly patch?: string;
}

/** One item of a Gatekeeper external-data answer. */
export interface ProviderItem {
  readonly key: string;
  readonly value?: unknown;
  readonly error?: string;
}

export interface TestWebhookOptions {
  /** The policy directory `portcullis serve --policies` reads. */
  readonly policies: string;
  readonly devCertDir: string;
  /** Registries spoken to over plain HTTP (registries.hosts). */
  readonly plainHttp?: readonly string[];
  /** Over the test defaults: timeoutSeconds 5, marginMilliseconds 500, shutdownDelaySeconds 0. */
  readonly webhook?: Partial<ServeConfig['webhook']>;
  /** Over the test default: revocation offline. */
  readonly verification?: Partial<ServeConfig['verification']>;
  readonly cache?: Partial<ServeConfig['cache']>;
  readonly plugins?: ServeConfig['plugins'];
}

/**
 * `portcullis serve` in-process with an HTTPS client that trusts its development CA: the
 * set-up the end-to-end tests share (short deadline, no shutdown delay, offline revocation,
 * silent logs) and the requests they make of it.
 */
export class TestWebhook {
  private constructor(
    readonly server: RunningWebhook,
    readonly agent: Agent,
  ) {}

  static async start(options: TestWebhookOptions): Promise<TestWebhook> {
    const d = DEFAULT_SERVE_CONFIG;
    const server = await startWebhook({
      policies: options.policies,
      port: 0,
      host: '127.0.0.1',
      devCertDir: options.devCertDir,
      config: {
        ...d,
        webhook: {
          ...d.webhook,
          timeoutSeconds: 5,
          marginMilliseconds: 500,
          shutdownDelaySeconds: 0,
          ...options.webhook,
        },
        verification: { ...d.verification, revocation: 'offline', ...options.verification },
        cache: { ...d.cache, ...options.cache },
        registries: {
          ...d.registries,
          hosts: Object.fromEntries(
            (options.plainHttp ?? []).map((host) => [host, { plainHttp: true, caFile: undefined }]),
          ),
        },
        logging: { level: 'silent' },
        plugins: options.plugins ?? d.plugins,
      },
    });
    return new TestWebhook(server, new Agent({ connect: { ca: readFileSync(server.devCaFile as string, 'utf8') } }));
  }

  get url(): string {
    return this.server.url;
  }

  /** POSTs JSON to `path`; the status and the parsed answer. */
  async post<T>(path: string, body: unknown): Promise<{ httpStatus: number; body: T }> {
    const res = await request(`${this.server.url}${path}`, {
      method: 'POST',
      dispatcher: this.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { httpStatus: res.statusCode, body: (await res.body.json()) as T };
  }

  /** An AdmissionReview of `object` in `namespace` to /validate (or /mutate); the response. */
  async admit(
    object: unknown,
    namespace: string,
    options: { endpoint?: '/validate' | '/mutate'; timeout?: string; extra?: Record<string, unknown> } = {},
  ): Promise<Admission & { httpStatus: number }> {
    const r = await this.post<{ response: Admission }>(
      `${options.endpoint ?? '/validate'}?timeout=${options.timeout ?? '5s'}`,
      admissionReview(object, { namespace, ...options.extra }),
    );
    return { httpStatus: r.httpStatus, ...r.body.response };
  }

  /** A review of a pod running `image` (container "app") in `namespace`. */
  async review(image: string, namespace: string, endpoint: '/validate' | '/mutate' = '/validate'): Promise<Admission> {
    const r = await this.post<{ response: Admission }>(
      `${endpoint}?timeout=5s`,
      admissionReview(pod({ containers: [['app', image]] }, namespace), { namespace }),
    );
    return r.body.response;
  }

  /** The Gatekeeper external-data provider (`verify` or `mutate`) asked about `keys`. */
  async provider(keys: readonly string[], mode: 'verify' | 'mutate' = 'verify'): Promise<ProviderItem[]> {
    const r = await this.post<{ response: { items: ProviderItem[] } }>(`/gatekeeper/v1/${mode}`, {
      apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
      kind: 'ProviderRequest',
      request: { keys },
    });
    return r.body.response.items;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.agent.close();
  }
}
