import { existsSync, readFileSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { PortcullisError } from '../errors/index.js';

/**
 * How Portcullis reaches the Kubernetes API: in a pod, with its service account (the token,
 * CA and namespace mounted under /var/run/secrets/kubernetes.io/serviceaccount, the server from
 * KUBERNETES_SERVICE_HOST/PORT); outside a cluster (local runs, tests), with a kubeconfig file.
 *
 * Nothing here is global: each call returns a new KubeConfig, and `$KUBECONFIG` / `~/.kube/config`
 * are never read implicitly — the caller names the file.
 */
export type KubeConnection =
  | { readonly inCluster: true; /** Prefix of the service-account mount (tests). */ readonly pathPrefix?: string }
  | {
      readonly kubeconfig: string;
      /** A context of the file; default its current-context. */ readonly context?: string;
    };

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Loads the connection; throws ERR_CONFIG_INVALID when it cannot be used. */
export function loadKubeConfig(connection: KubeConnection): KubeConfig {
  const kc = new KubeConfig();
  if ('inCluster' in connection) {
    const prefix = connection.pathPrefix ?? '';
    if (!existsSync(`${prefix}${SERVICE_ACCOUNT_DIR}/token`)) {
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        `not running in a Kubernetes pod: ${prefix}${SERVICE_ACCOUNT_DIR}/token does not exist (give a kubeconfig file instead)`,
      );
    }
    kc.loadFromCluster(prefix);
    const server = kc.getCurrentCluster()?.server ?? '';
    if (server.includes('undefined')) {
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        'in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set',
      );
    }
    return kc;
  }
  try {
    kc.loadFromFile(connection.kubeconfig);
  } catch (cause) {
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `cannot read kubeconfig ${connection.kubeconfig}: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
  if (connection.context !== undefined) {
    if (kc.getContextObject(connection.context) === null) {
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        `kubeconfig ${connection.kubeconfig} has no context ${JSON.stringify(connection.context)}`,
      );
    }
    kc.setCurrentContext(connection.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new PortcullisError(
      'ERR_CONFIG_INVALID',
      `kubeconfig ${connection.kubeconfig} has no current cluster (set current-context or pass a context)`,
    );
  }
  return kc;
}

/** The namespace Portcullis runs in, from the service-account mount; undefined outside a pod. */
export function inClusterNamespace(pathPrefix = ''): string | undefined {
  try {
    const value = readFileSync(`${pathPrefix}${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim();
    return value === '' ? undefined : value;
  } catch {
    return undefined;
  }
}

/** The API clients Portcullis uses, made from one KubeConfig. */
export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
}

export function makeClients(kubeConfig: KubeConfig): KubeClients {
  return { kubeConfig, core: kubeConfig.makeApiClient(CoreV1Api), custom: kubeConfig.makeApiClient(CustomObjectsApi) };
}

/** The HTTP status of an error thrown by the generated API clients (ApiException.code), if any. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const code =
    (error as { code?: unknown; statusCode?: unknown }).code ?? (error as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** One line describing an API error, without the response body (it may echo request content). */
export function describeApiError(error: unknown): string {
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const body = (error as { body?: unknown }).body;
    let message: string | undefined;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        if (typeof parsed.message === 'string') message = parsed.message;
      } catch {
        // not a Status object
      }
    } else if (
      body !== null &&
      typeof body === 'object' &&
      typeof (body as { message?: unknown }).message === 'string'
    ) {
      message = (body as { message: string }).message;
    }
    return `HTTP ${status}${message === undefined ? '' : `: ${message.slice(0, 300)}`}`;
  }
  return error instanceof Error ? error.message : String(error);
}
