import { WILDCARD_SCOPE } from '../policy/index.js';
import type { EnforcementAction, LabelSelector } from '../policyset/index.js';
import { uniqueAnchors, type TrustAnchor } from './certificates.js';
import { namespaceSelectorOf } from './kyverno-match.js';
import { ManifestSet } from './manifest-set.js';
import { joinName, objectName } from './names.js';
import { describe, isObject, list, obj, str, strings, Notes, type Obj } from './notes.js';
import { patternToScope, patternsToScopes } from './scopes.js';
import type { Conversion, ConvertOptions, InputObject } from './types.js';
import { certificatesOf, writeRequirement, type Located, type Requirement } from './kyverno-common.js';
import { convertImageValidatingPolicy } from './kyverno-cel.js';

/**
 * `portcullis import kyverno`: Kyverno's Notary image verification as portcullis.dev resources.
 *
 * - `ClusterPolicy` / `Policy` (kyverno.io): each `verifyImages` entry of `type: Notary`. Kyverno
 *   verifies it with a fixed Notary trust policy (level strict, any identity, one `ca` store
 *   holding the attestor's `cert` and `certChain`); its `imageReferences` choose the images.
 *   Attestor sets are ANDed and a set's entries ANDed unless `count` says fewer: each thing that
 *   must hold becomes a policy of its own (Portcullis admits only when every policy does), and a
 *   `count: 1` set becomes one store holding every entry's certificates (any of them will do).
 * - `ImageValidatingPolicy` / `NamespacedImageValidatingPolicy` (policies.kyverno.io): each
 *   attestor with a `notary` form (`certs`, `tsaCerts`), required for every image that
 *   `matchImageReferences` chooses; the CEL `validations` are not interpreted.
 *
 * A ClusterPolicy's `match`/`exclude` namespaces, and an ImageValidatingPolicy's
 * `matchConstraints.namespaceSelector`, become the namespaceSelector; a Policy becomes a
 * TrustPolicy in its namespace. What cannot be carried over is a note; where the result differs
 * it is stricter, never looser (docs/migrating.md).
 */

const RULE_GROUP = 'kyverno.io';
const CEL_GROUP = 'policies.kyverno.io';

export function convertKyverno(inputs: readonly InputObject[], options: ConvertOptions = {}): Conversion {
  const notes = new Notes();
  const out = new ManifestSet();
  let converted = 0;
  let ignored = 0;
  for (const { object, origin } of inputs) {
    if (!isObject(object)) {
      ignored++;
      continue;
    }
    const group = (str(object['apiVersion']) ?? '').split('/')[0] ?? '';
    const kind = str(object['kind']) ?? '';
    const subject = describe(object, origin);
    const metadata = obj(object['metadata']);
    const name = str(metadata['name']);
    const namespaced = kind === 'Policy' || kind === 'NamespacedImageValidatingPolicy';
    const known =
      (group === RULE_GROUP && (kind === 'ClusterPolicy' || kind === 'Policy')) ||
      (group === CEL_GROUP && (kind === 'ImageValidatingPolicy' || kind === 'NamespacedImageValidatingPolicy'));
    if (!known) {
      if (group === RULE_GROUP || group === CEL_GROUP)
        notes.info(subject, 'not carried over: not an image verification policy');
      else ignored++;
      continue;
    }
    if (name === undefined) {
      notes.warn(subject, 'has no metadata.name: ignored');
      continue;
    }
    const namespace = namespaced ? str(metadata['namespace']) : undefined;
    if (namespaced && namespace === undefined) {
      notes.warn(subject, 'a namespaced policy without metadata.namespace: ignored (its namespace is unknown)');
      continue;
    }
    const located = { object, subject, name, namespace };
    const wrote =
      group === RULE_GROUP
        ? convertRulePolicy(located, out, notes, options)
        : convertImageValidatingPolicy(located, out, notes, options);
    if (wrote) converted++;
  }
  if (ignored > 0) notes.info('input', `${ignored} object(s) that are not Kyverno policies were ignored`);
  return { manifests: out.manifests, notes: notes.all, converted };
}

/** Enforce → deny, Audit → dryrun (admitted and reported, as Kyverno's audit mode). */
function ruleAction(value: string | undefined): EnforcementAction {
  return value?.toLowerCase() === 'enforce' ? 'deny' : 'dryrun';
}

function convertRulePolicy(policy: Located, out: ManifestSet, notes: Notes, options: ConvertOptions): boolean {
  const spec = obj(policy.object['spec']);
  const policyAction = str(spec['validationFailureAction']);
  if (spec['validationFailureActionOverrides'] !== undefined) {
    notes.warn(policy.subject, 'validationFailureActionOverrides (per-namespace actions) is not carried over');
  }
  let wrote = false;
  let otherRules = 0;
  const rules = list(spec['rules']).filter(isObject);
  for (const [r, rule] of rules.entries()) {
    const ruleName = str(rule['name']) ?? `rule-${r + 1}`;
    const verifyImages = list(rule['verifyImages']).filter(isObject);
    if (verifyImages.length === 0) {
      otherRules++;
      continue;
    }
    const selector =
      policy.namespace === undefined
        ? namespaceSelectorOf(rule, `${policy.subject} rule ${ruleName}`, notes)
        : undefined;
    if (rule['preconditions'] !== undefined || rule['celPreconditions'] !== undefined) {
      notes.warn(
        policy.subject,
        `rule ${ruleName}: preconditions are not carried over (the policy applies without them)`,
      );
    }
    for (const [v, verify] of verifyImages.entries()) {
      const where = `rule ${ruleName} verifyImages[${v}]`;
      const type = str(verify['type']) ?? 'Cosign';
      if (type !== 'Notary') {
        notes.warn(
          policy.subject,
          `${where}: type ${type} is not carried over (Portcullis verifies Notary signatures)`,
        );
        continue;
      }
      const action = options.enforcementAction ?? ruleAction(str(verify['failureAction']) ?? policyAction);
      const base =
        verifyImages.length > 1 ? joinName(policy.name, ruleName, String(v + 1)) : joinName(policy.name, ruleName);
      if (writeVerifyImage(policy, verify, { where, ruleName, base, action, selector }, out, notes)) wrote = true;
    }
  }
  if (otherRules > 0) notes.info(policy.subject, `${otherRules} rule(s) without verifyImages are not carried over`);
  if (!wrote && otherRules === rules.length) notes.warn(policy.subject, 'has no verifyImages rule: nothing to convert');
  return wrote;
}

function writeVerifyImage(
  policy: Located,
  verify: Obj,
  at: { where: string; ruleName: string; base: string; action: EnforcementAction; selector: LabelSelector | undefined },
  out: ManifestSet,
  notes: Notes,
): boolean {
  const { where } = at;
  const patterns = [
    ...strings(verify['imageReferences']),
    ...(str(verify['image']) === undefined ? [] : [str(verify['image']) as string]),
  ];
  if (patterns.length === 0) {
    notes.warn(policy.subject, `${where}: no imageReferences: nothing to convert`);
    return false;
  }
  const scoped = patternsToScopes(patterns);
  for (const note of scoped.notes) notes.warn(policy.subject, `${where}: ${note}`);
  // skipImageReferences: exact repositories become `skip` statements; patterns cannot.
  const skips: string[] = [];
  for (const pattern of strings(verify['skipImageReferences'])) {
    const r = patternToScope(pattern);
    if ('widened' in r || r.scope === WILDCARD_SCOPE || r.note !== undefined) {
      notes.warn(
        policy.subject,
        `${where}: skipImageReferences "${pattern}" is not an exact repository: not carried over, so those images need a signature too`,
      );
    } else skips.push(r.scope);
  }
  const registryScopes = scoped.scopes.filter((s) => !skips.includes(s));
  if (registryScopes.length === 0) {
    notes.info(policy.subject, `${where}: every image it names is skipped: nothing to convert`);
    return false;
  }
  for (const [key, message] of [
    ['attestations', 'attestations (signed SBOMs, scan reports and their conditions) are not carried over'],
    [
      'repository',
      'repository (signatures kept in another repository) is not carried over: Portcullis reads the signatures that refer to the image in its own repository',
    ],
    [
      'imageRegistryCredentials',
      "imageRegistryCredentials are not carried over: Portcullis reads a registry with the pod's imagePullSecrets (docs/configuration.md)",
    ],
  ] as const) {
    if (verify[key] !== undefined && !(Array.isArray(verify[key]) && (verify[key] as unknown[]).length === 0))
      notes.warn(policy.subject, `${where}: ${message}`);
  }
  if (verify['mutateDigest'] !== false) {
    notes.info(
      policy.subject,
      `${where}: mutateDigest: the chart's mutate.enabled (on by default) pins verified tags to digests`,
    );
  }
  const requirements = attestorRequirements(list(verify['attestors']), where, policy.subject, notes);
  if (requirements.length === 0) {
    notes.warn(policy.subject, `${where}: no attestors: nothing to verify against, not converted`);
    return false;
  }
  requirements.forEach((requirement, i) => {
    const name = requirements.length > 1 ? joinName(at.base, String(i + 1)) : at.base;
    writeRequirement(
      policy,
      requirement,
      {
        name,
        statementName: objectName(at.ruleName, 'verify'),
        registryScopes,
        skips,
        action: at.action,
        selector: at.selector,
      },
      out,
      notes,
    );
  });
  return true;
}

/** Attestor sets (ANDed) → requirements: one per entry that must hold, or one union per `count: 1` set. */
function attestorRequirements(sets: readonly unknown[], where: string, subject: string, notes: Notes): Requirement[] {
  const out: Requirement[] = [];
  sets.forEach((setValue, s) => {
    const set = obj(setValue);
    const entries = list(set['entries']).filter(isObject);
    const count = typeof set['count'] === 'number' && set['count'] > 0 ? set['count'] : entries.length;
    const carried = entries.map((entry, e) =>
      entryAnchors(entry, `${where}.attestors[${s}].entries[${e}]`, subject, notes),
    );
    if (count === 1 && entries.length > 1) {
      const usable = carried.filter((c): c is TrustAnchor[] => c !== undefined);
      if (usable.length < carried.length && usable.length > 0) {
        notes.warn(
          subject,
          `${where}.attestors[${s}]: any one entry will do (count 1); the entries not carried over are no longer alternatives`,
        );
      }
      out.push({ label: `attestors[${s}]`, ca: usable.length === 0 ? undefined : uniqueAnchors(usable) });
      return;
    }
    if (count < entries.length) {
      notes.warn(
        subject,
        `${where}.attestors[${s}]: count ${count} of ${entries.length} entries: Portcullis requires every entry (stricter)`,
      );
    }
    carried.forEach((anchors, e) => out.push({ label: `attestors[${s}].entries[${e}]`, ca: anchors }));
  });
  return out;
}

function entryAnchors(entry: Obj, where: string, subject: string, notes: Notes): TrustAnchor[] | undefined {
  if (entry['annotations'] !== undefined) {
    notes.warn(subject, `${where}.annotations (required signature metadata) is not carried over`);
  }
  const certificates = entry['certificates'];
  if (!isObject(certificates)) {
    const form = ['keys', 'keyless', 'attestor'].find((k) => entry[k] !== undefined) ?? 'unknown';
    notes.warn(
      subject,
      `${where}: a ${form} attestor is not carried over (a Notary rule verifies against certificates)`,
    );
    return undefined;
  }
  const text = [str(certificates['cert']), str(certificates['certChain'])]
    .filter((t) => t !== undefined && t.trim() !== '')
    .join('\n');
  if (text === '') {
    notes.warn(subject, `${where}: no cert or certChain`);
    return undefined;
  }
  if (/\{\{.*\}\}/.test(text)) {
    notes.warn(subject, `${where}: certificates from a variable ({{ … }}) cannot be resolved by the importer`);
    return undefined;
  }
  const anchors = certificatesOf(text, 'ca', where, subject, notes);
  return anchors.length === 0 ? undefined : anchors;
}
