import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admissionReview, pod } from '../../src/http/testing/reviews.js';
import { startServeProcess, type ServeProcess } from '../../test/helpers/serve-process.js';

/**
 * `portcullis serve` as it ships (dist/, its own process), with default settings except those a
 * case names, trusting the bench signer in namespace `bench`, registries reached over HTTPS with
 * the proxies' CA.
 */

export interface BenchServe {
  readonly process: ServeProcess;
  /** Sends one AdmissionReview of a pod with these images; answers whether it was allowed and how long it took. */
  review(images: readonly string[]): Promise<ReviewAnswer>;
  rssMiB(): number;
  stop(): Promise<void>;
}

export interface ReviewAnswer {
  readonly allowed: boolean;
  readonly ms: number;
  /** HTTP status of the webhook's answer (200), or 0 when the request failed. */
  readonly status: number;
  readonly message: string;
}

export interface BenchServeOptions {
  readonly certPem: string;
  /** Registry host → CA file of its certificate. */
  readonly caFiles: Readonly<Record<string, string>>;
  /** Settings of `registries` beyond the hosts (e.g. maxImagesPerReview). */
  readonly registries?: Readonly<Record<string, unknown>>;
  readonly cache?: Readonly<Record<string, unknown>>;
  readonly connections?: number;
  /** Extra environment of the server process (e.g. NODE_OPTIONS=--cpu-prof). */
  readonly env?: NodeJS.ProcessEnv;
}

export async function startBenchServe(o: BenchServeOptions): Promise<BenchServe> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-serve-'));
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(join(policies, 'bench.yaml'), policyDocuments(o.certPem));
  const hosts = Object.fromEntries(Object.entries(o.caFiles).map(([host, caFile]) => [host, { caFile }]));
  let server: ServeProcess;
  try {
    server = await startServeProcess({
      compiled: true,
      // BENCH_SERVE_MAIN: the dist/cli/main.cjs of another build, to measure an earlier commit with these cases.
      ...(process.env.BENCH_SERVE_MAIN === undefined ? {} : { main: process.env.BENCH_SERVE_MAIN }),
      policies,
      config: {
        webhook: { timeoutSeconds: 10, shutdownDelaySeconds: 0, shutdownTimeoutSeconds: 5 },
        verification: { revocation: 'offline' },
        logging: { level: 'warn' },
        // BENCH_REGISTRIES: JSON settings of `registries` for every case (trying other values).
        registries: { hosts, ...o.registries, ...JSON.parse(process.env.BENCH_REGISTRIES ?? '{}') },
        ...(o.cache === undefined ? {} : { cache: o.cache }),
        // BENCH_IDLE_COLLECTION_SECONDS: memory.idleCollectionSeconds (0 = the server's idle collection off).
        ...(process.env.BENCH_IDLE_COLLECTION_SECONDS === undefined
          ? {}
          : { memory: { idleCollectionSeconds: Number(process.env.BENCH_IDLE_COLLECTION_SECONDS) } }),
      },
      connections: o.connections ?? 256,
      // BENCH_SERVE_NODE_OPTIONS: Node/V8 options for the server only (trying heap settings).
      ...(o.env === undefined && process.env.BENCH_SERVE_NODE_OPTIONS === undefined
        ? {}
        : {
            env: {
              ...o.env,
              ...(process.env.BENCH_SERVE_NODE_OPTIONS === undefined
                ? {}
                : { NODE_OPTIONS: process.env.BENCH_SERVE_NODE_OPTIONS }),
            },
          }),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const pid = server.process.pid as number;
  return {
    process: server,
    async review(images) {
      const body = admissionReview(pod({ containers: images.map((image, i) => [`c${i}`, image] as const) }, 'bench'), {
        namespace: 'bench',
      });
      try {
        const answer = await server.post('/validate?timeout=10s', body);
        const response = answer.body?.response as { allowed?: boolean; status?: { message?: string } } | undefined;
        return {
          allowed: response?.allowed === true,
          ms: answer.ms,
          status: answer.status,
          message: response?.status?.message ?? '',
        };
      } catch (error) {
        return { allowed: false, ms: NaN, status: 0, message: String(error) };
      }
    },
    rssMiB: () => rssMiB(pid),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

export function policyDocuments(certPem: string): string {
  const pem = certPem
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `apiVersion: v1
kind: Namespace
metadata: { name: bench, labels: { bench: "true" } }
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: bench }
spec:
  type: ca
  certificates: |
${pem}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: bench }
spec:
  namespaceSelector: { matchLabels: { bench: "true" } }
  version: "1.0"
  trustPolicies:
    - name: all
      registryScopes: ["*"]
      signatureVerification: { level: strict, override: { revocation: skip } }
      trustStores: ["ca:bench"]
      trustedIdentities: ["*"]
`;
}
