import { buildSnapshot, type InvalidResource } from '../policyset/index.js';
import type { Manifest } from './types.js';

/**
 * The converted manifests checked exactly as Portcullis will read them (the policy-set builder
 * of `serve --policies` and of the Kubernetes source): the resources that would not take effect,
 * with their reason and code. Namespaced resources without a namespace go to `default`, as
 * `kubectl apply` with its default context.
 */
export function checkManifests(manifests: readonly Manifest[]): readonly InvalidResource[] {
  return buildSnapshot({ resources: manifests, revision: 1, defaultNamespace: 'default' }).invalid;
}
