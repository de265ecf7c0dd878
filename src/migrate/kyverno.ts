import { WILDCARD_SCOPE } from '../policy/index.js';
import type { EnforcementAction, LabelSelector, TrustStoreType } from '../policyset/index.js';
import { selectTrustAnchors, uniqueAnchors, type TrustAnchor } from './certificates.js';
import { copySelector, namespaceSelectorOf } from './kyverno-match.js';
import { ManifestSet } from './manifest-set.js';
import type { Statement } from './manifests.js';
import { joinName, objectName } from './names.js';
import { describe, isObject, list, obj, str, strings, Notes, type Obj } from './notes.js';
import { patternToScope, patternsToScopes } from './scopes.js';
import type { Conversion, ConvertOptions, InputObject } from './types.js';

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

interface Located {
  readonly object: Obj;
  readonly subject: string;
  readonly name: string;
  readonly namespace: string | undefined;
}

/** One thing that must hold: a signature trusted by these certificates (undefined: none could be carried over). */
interface Requirement {
  readonly label: string;
  readonly ca: readonly TrustAnchor[] | undefined;
  readonly tsa?: readonly TrustAnchor[];
}

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

function certificatesOf(
  text: string,
  type: TrustStoreType,
  where: string,
  subject: string,
  notes: Notes,
): TrustAnchor[] {
  const selection = selectTrustAnchors(text, type);
  for (const problem of selection.problems) notes.warn(subject, `${where}: ${problem}`);
  return [...selection.anchors];
}

// --- ClusterPolicy / Policy ------------------------------------------------------------------

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

function writeRequirement(
  policy: Located,
  requirement: Requirement,
  at: {
    name: string;
    statementName: string;
    registryScopes: readonly string[];
    skips: readonly string[];
    action: EnforcementAction;
    selector: LabelSelector | undefined;
  },
  out: ManifestSet,
  notes: Notes,
): void {
  const namespace = policy.namespace === undefined ? {} : { namespace: policy.namespace };
  const trustStores: string[] = [];
  if (requirement.ca === undefined) {
    notes.warn(
      policy.subject,
      `${requirement.label}: no certificate could be carried over, so trust store ca:${at.name} is not written: the converted policy ${at.name} stays invalid (and blocks the images it covers) until a ${policy.namespace === undefined ? 'ClusterTrustStore' : 'TrustStore'} ${at.name} holds the certificates`,
    );
    trustStores.push(`ca:${at.name}`);
  } else {
    const store = out.addStore({
      wanted: at.name,
      ...namespace,
      type: 'ca',
      anchors: requirement.ca,
      importedFrom: policy.subject,
    });
    trustStores.push(`ca:${store}`);
  }
  if (requirement.tsa !== undefined && requirement.tsa.length > 0) {
    const store = out.addStore({
      wanted: joinName(at.name, 'tsa'),
      ...namespace,
      type: 'tsa',
      anchors: requirement.tsa,
      importedFrom: policy.subject,
    });
    trustStores.push(`tsa:${store}`);
  }
  const statements: Statement[] = [
    {
      name: at.statementName,
      registryScopes: [...at.registryScopes],
      signatureVerification: { level: 'strict' },
      trustStores,
      trustedIdentities: ['*'],
    },
  ];
  if (at.skips.length > 0) {
    statements.push({
      name: `${at.statementName}-skip`,
      registryScopes: [...at.skips],
      signatureVerification: { level: 'skip' },
    });
  }
  out.addPolicy({
    wanted: at.name,
    ...namespace,
    enforcementAction: at.action,
    statements,
    ...(at.selector === undefined ? {} : { namespaceSelector: at.selector }),
    importedFrom: policy.subject,
  });
}

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

function convertImageValidatingPolicy(
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
