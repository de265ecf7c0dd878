import {
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { type InvalidResource } from '../policyset/index.js';
import { type KubeClients } from './client.js';
import type { KubeRequester } from './requests.js';
import { GROUP, KINDS, VERSION, type TrimmedObject, type WatchedKind } from './objects.js';

/** Listing and watching for the Kubernetes source (source.ts): paged lists, trimming watches, oversize markers. */

export type KubeInformer = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

export interface FeedDescription {
  readonly kind: WatchedKind;
  /** Collection path for list and watch, e.g. `/apis/portcullis.dev/v1alpha1/trustpolicies`. */
  readonly path: string;
  readonly labelSelector?: string;
}

export interface InformerHooks {
  /** Trims each listed or watched object (the informer must cache what this returns). */
  readonly trim: (object: unknown) => KubernetesObject | undefined;
  /** Must be called after each complete list, before its objects are read from the cache. */
  readonly onListed: () => void;
  /** Called when a watch request has been answered (the watch is up). */
  readonly onWatching?: () => void;
}

export type InformerFactory = (feed: FeedDescription, hooks: InformerHooks) => KubeInformer;

export const LIST_PAGE_SIZE = 500;
export function oversizeError(object: TrimmedObject, limit: number): InvalidResource {
  const m = object.metadata;
  const id = { kind: object.kind, name: m.name, ...(m.namespace === undefined ? {} : { namespace: m.namespace }) };
  const blocks =
    object.kind === 'TrustPolicy'
      ? { kind: 'namespace' as const, namespace: m.namespace ?? 'default' }
      : object.kind === 'Namespace'
        ? { kind: 'namespace' as const, namespace: m.name }
        : object.kind === 'ClusterTrustPolicy'
          ? { kind: 'all' as const }
          : undefined;
  return {
    id,
    reason: `the object's content is about ${object.oversize} bytes, more than the limit of ${limit}; it was not read`,
    code: 'ERR_SIZE_LIMIT',
    ...(blocks === undefined ? {} : { blocks, enforcementAction: 'deny' as const }),
  };
}

/** Bytes of one list page read at most (a page is LIST_PAGE_SIZE objects, each's content at most 1 MiB by default). */
const MAX_LIST_PAGE_BYTES = 256 * 1024 * 1024;

type ListPage = { items?: unknown[]; metadata?: { resourceVersion?: string; _continue?: string; continue?: string } };

/**
 * Lists a whole collection in pages, trimming each item. Through the kept-alive pool when the
 * kubeconfig allows (plain JSON: the generated clients turn every Namespace into class instances,
 * over a new TLS connection per page), else through the generated clients.
 */
export async function listAll(
  clients: KubeClients,
  feed: FeedDescription,
  trim: (object: unknown) => KubernetesObject | undefined,
  requester?: KubeRequester,
): Promise<KubernetesListObject<KubernetesObject>> {
  const items: KubernetesObject[] = [];
  let resourceVersion = '';
  let token: string | undefined;
  const selector = feed.labelSelector === undefined ? {} : { labelSelector: feed.labelSelector };
  do {
    let page: ListPage;
    if (requester !== undefined) {
      const query = new URLSearchParams({ limit: String(LIST_PAGE_SIZE), ...selector });
      if (token !== undefined) query.set('continue', token);
      const text = await requester.send('GET', `${KINDS[feed.kind].path}?${query.toString()}`, undefined, undefined, {
        maxBytes: MAX_LIST_PAGE_BYTES,
      });
      page = JSON.parse(text) as ListPage;
    } else {
      const paging = { limit: LIST_PAGE_SIZE, ...(token === undefined ? {} : { _continue: token }), ...selector };
      switch (feed.kind) {
        case 'Namespace':
          page = await clients.core.listNamespace(paging);
          break;
        case 'Secret':
          page = await clients.core.listSecretForAllNamespaces(paging);
          break;
        case 'ConfigMap':
          page = await clients.core.listConfigMapForAllNamespaces(paging);
          break;
        default:
          page = (await clients.custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: KINDS[feed.kind].plural,
            ...paging,
          })) as ListPage;
      }
    }
    for (const item of page.items ?? []) {
      const trimmed = trim(item);
      if (trimmed !== undefined) items.push(trimmed);
    }
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    const next = page.metadata?._continue ?? page.metadata?.continue;
    token = next === undefined || next === '' ? undefined : next;
  } while (token !== undefined);
  return { items, metadata: { resourceVersion } };
}

/** The client's Watch, trimming each object of an ADDED/MODIFIED/DELETED event before the cache sees it. */
export class TrimmingWatch extends Watch {
  readonly #hooks: InformerHooks;
  constructor(config: KubeConfig, hooks: InformerHooks) {
    super(config);
    this.#hooks = hooks;
  }
  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    let ended = false;
    const controller = await super.watch(
      path,
      queryParams,
      (phase, object, watchObject) => {
        if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') {
          const trimmed = this.#hooks.trim(object);
          if (trimmed === undefined) return;
          callback(phase, trimmed, watchObject);
        } else callback(phase, object, watchObject);
      },
      (err) => {
        ended = true;
        done(err);
      },
    );
    // super.watch resolves once the response headers arrived; done was called already if it failed.
    if (!ended) this.#hooks.onWatching?.();
    return controller;
  }
}
