import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { PortcullisError } from '../errors/index.js';
import { describeApiError, httpStatusOf } from './client.js';

/**
 * Lists objects of any kind page by page (`limit` and `continue`), so a cluster's Pods never
 * arrive as one response the process must hold whole. Kinds are found by API discovery; a kind
 * that moved group version (CronJob: batch/v1 since Kubernetes 1.21, batch/v1beta1 before) is
 * listed from the first of `apiVersions` the server serves.
 */
export interface ListOptions {
  /** The versions to try, preferred first (`['batch/v1', 'batch/v1beta1']`). */
  readonly apiVersions: readonly string[];
  readonly kind: string;
  /** One namespace; undefined lists every namespace. */
  readonly namespace?: string;
  /** Objects per page. Default 250. */
  readonly pageSize?: number;
}

export const DEFAULT_PAGE_SIZE = 250;

export class PagedLister {
  readonly #api: KubernetesObjectApi;

  constructor(kubeConfig: KubeConfig) {
    this.#api = KubernetesObjectApi.makeApiClient(kubeConfig);
  }

  /** Every object, one page at a time; throws ERR_KUBE_API when the server refuses or fails. */
  async *list(options: ListOptions): AsyncGenerator<KubernetesObject> {
    const versions = options.apiVersions;
    for (let v = 0; v < versions.length; v++) {
      const apiVersion = versions[v] as string;
      let token: string | undefined;
      let first = true;
      do {
        let page;
        try {
          page = await this.#page(apiVersion, options, token);
        } catch (error) {
          // The kind is not served in this version: the next one, else nothing of it can run.
          if (first && notServed(error)) break;
          throw new PortcullisError(
            'ERR_KUBE_API',
            `listing ${options.kind} (${apiVersion}) ${options.namespace === undefined ? 'in every namespace' : `in namespace ${options.namespace}`}: ${describeApiError(error)}`,
            { cause: error },
          );
        }
        first = false;
        for (const item of page.items) yield { ...item, apiVersion, kind: options.kind };
        token = page.metadata?._continue;
        if (token === '') token = undefined;
        if (token === undefined) return;
      } while (token !== undefined);
    }
  }

  #page(
    apiVersion: string,
    options: ListOptions,
    token: string | undefined,
  ): Promise<KubernetesListObject<KubernetesObject>> {
    return this.#api.list(
      apiVersion,
      options.kind,
      options.namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      options.pageSize ?? DEFAULT_PAGE_SIZE,
      token,
    );
  }
}

function notServed(error: unknown): boolean {
  if (httpStatusOf(error) === 404) return true;
  return error instanceof Error && /Unrecognized API version and kind/i.test(error.message);
}
