import { WILDCARD_SCOPE } from '../policy/index.js';
import type { EnforcementAction, LabelSelector } from '../policyset/index.js';
import { type TrustAnchor } from './certificates.js';
import { copySelector } from './kyverno-match.js';
import type { ManifestSet } from './manifest-set.js';
import { joinName, objectName } from './names.js';
import type { Notes } from './notes.js';
import { isObject, list, obj, str, strings } from './notes.js';
import { patternsToScopes } from './scopes.js';
import type { ConvertOptions } from './types.js';
import { certificatesOf, writeRequirement, type Located } from './kyverno-common.js';

// --- ImageValidatingPolicy ------------------------------------------------------------------------

/** [Deny] → deny; else Warn → warn; else (Audit) → dryrun. */
function celAction(actions: readonly string[]): EnforcementAction {
  const lower = actions.map((a) => a.toLowerCase());
  if (lower.length === 0 || lower.includes('deny')) return 'deny';
  return lower.includes('warn') ? 'warn' : 'dryrun';
}

/** certs/tsaCerts: a string, or `{value}` (an `{expression}` cannot be resolved here). */
function certsText(value: unknown): { text?: string; expression?: string } {
  if (typeof value === 'string') return { text: value };
  const o = obj(value);
  if (typeof o['value'] === 'string') return { text: o['value'] };
  if (typeof o['expression'] === 'string') return { expression: o['expression'] };
  return {};
}

export function convertImageValidatingPolicy(
  policy: Located,
  out: ManifestSet,
  notes: Notes,
  options: ConvertOptions,
): boolean {
  const spec = obj(policy.object['spec']);
  const action = options.enforcementAction ?? celAction(strings(spec['validationActions']));
  const patterns: string[] = [];
  let widened = false;
  for (const m of list(spec['matchImageReferences'])) {
    const reference = obj(m);
    const glob = str(reference['glob']);
    if (glob !== undefined) patterns.push(glob);
    else {
      widened = true;
      notes.warn(
        policy.subject,
        `matchImageReferences expression ${JSON.stringify(reference['expression'])} cannot be written as registry scopes: widened to *`,
      );
    }
  }
  const scoped = patternsToScopes(patterns.length === 0 ? ['*'] : patterns);
  for (const note of scoped.notes) notes.warn(policy.subject, `matchImageReferences: ${note}`);
  const registryScopes = widened ? [WILDCARD_SCOPE] : scoped.scopes;

  let selector: LabelSelector | undefined;
  const constraints = obj(spec['matchConstraints']);
  if (policy.namespace === undefined && constraints['namespaceSelector'] !== undefined) {
    selector = copySelector(
      constraints['namespaceSelector'],
      'matchConstraints.namespaceSelector',
      policy.subject,
      notes,
    );
  }
  for (const key of ['objectSelector', 'excludeResourceRules']) {
    if (constraints[key] !== undefined)
      notes.warn(policy.subject, `matchConstraints.${key} is not carried over: the policy covers more`);
  }
  for (const [key, message] of [
    ['matchConditions', 'matchConditions (CEL) are not carried over: the policy covers more'],
    ['attestations', 'attestations (signed SBOMs, in-toto statements) are not carried over'],
    [
      'images',
      'images (CEL extraction from custom resources) is not carried over: Portcullis checks pods and workload templates',
    ],
    [
      'credentials',
      "credentials are not carried over: Portcullis reads a registry with the pod's imagePullSecrets (docs/configuration.md)",
    ],
  ] as const) {
    if (spec[key] !== undefined) notes.warn(policy.subject, message);
  }
  if (spec['validations'] !== undefined) {
    notes.warn(
      policy.subject,
      'validations (CEL) are not interpreted: every image the policy matches must carry a signature trusted by each notary attestor, each a policy of its own',
    );
  }

  const attestors = list(spec['attestors']).filter(isObject);
  const notary = attestors.filter((a) => isObject(a['notary']));
  for (const other of attestors.filter((a) => !isObject(a['notary']))) {
    notes.warn(
      policy.subject,
      `attestor ${str(other['name']) ?? '(no name)'} is not a notary attestor: not carried over`,
    );
  }
  if (notary.length === 0) {
    notes.warn(policy.subject, 'has no notary attestor: nothing to convert');
    return false;
  }
  for (const attestor of notary) {
    const attestorName = str(attestor['name']) ?? 'notary';
    const where = `attestor ${attestorName}`;
    const form = obj(attestor['notary']);
    const certs = certsText(form['certs']);
    let ca: TrustAnchor[] | undefined;
    if (certs.text !== undefined) {
      const anchors = certificatesOf(certs.text, 'ca', `${where} certs`, policy.subject, notes);
      ca = anchors.length === 0 ? undefined : anchors;
    } else if (certs.expression !== undefined) {
      notes.warn(
        policy.subject,
        `${where}: certs from the expression ${JSON.stringify(certs.expression)} cannot be resolved by the importer`,
      );
    }
    const tsaText = certsText(form['tsaCerts']);
    let tsa: TrustAnchor[] | undefined;
    if (tsaText.text !== undefined)
      tsa = certificatesOf(tsaText.text, 'tsa', `${where} tsaCerts`, policy.subject, notes);
    else if (tsaText.expression !== undefined) {
      notes.warn(
        policy.subject,
        `${where}: tsaCerts from an expression cannot be resolved: timestamps are then not trusted`,
      );
    }
    writeRequirement(
      policy,
      { label: where, ca, ...(tsa === undefined ? {} : { tsa }) },
      {
        name: notary.length > 1 ? joinName(policy.name, attestorName) : objectName(policy.name),
        statementName: objectName(attestorName, 'notary'),
        registryScopes,
        skips: [],
        action,
        selector,
      },
      out,
      notes,
    );
  }
  return true;
}
