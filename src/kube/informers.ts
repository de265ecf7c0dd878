import { Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { type InvalidResource } from '../policyset/index.js';
import { type KubeClients } from './client.js';
import { GROUP, KINDS, VERSION, type TrimmedObject } from './objects.js';

import type { FeedDescription, InformerHooks } from './source.js';

/** Listing and watching for the Kubernetes source (source.ts): paged lists, trimming watches, oversize markers. */

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

/** Lists a whole collection in pages, trimming each item. */
export async function listAll(
  clients: KubeClients,
  feed: FeedDescription,
  trim: (object: unknown) => KubernetesObject | undefined,
): Promise<KubernetesListObject<KubernetesObject>> {
  const items: KubernetesObject[] = [];
  let resourceVersion = '';
  let token: string | undefined;
  const selector = feed.labelSelector === undefined ? {} : { labelSelector: feed.labelSelector };
  do {
    const paging = { limit: LIST_PAGE_SIZE, ...(token === undefined ? {} : { _continue: token }), ...selector };
    let page: { items?: unknown[]; metadata?: { resourceVersion?: string; _continue?: string; continue?: string } };
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
        })) as typeof page;
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
