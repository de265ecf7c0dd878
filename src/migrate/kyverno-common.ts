import type { EnforcementAction, LabelSelector, TrustStoreType } from '../policyset/index.js';
import { selectTrustAnchors, type TrustAnchor } from './certificates.js';
import type { ManifestSet } from './manifest-set.js';
import type { Statement } from './manifests.js';
import { joinName } from './names.js';
import type { Notes } from './notes.js';
import { type Obj } from './notes.js';

// What both kinds of Kyverno policy convert to: the requirement and how it is written.

export interface Located {
  readonly object: Obj;
  readonly subject: string;
  readonly name: string;
  readonly namespace: string | undefined;
}

/** One thing that must hold: a signature trusted by these certificates (undefined: none could be carried over). */
export interface Requirement {
  readonly label: string;
  readonly ca: readonly TrustAnchor[] | undefined;
  readonly tsa?: readonly TrustAnchor[];
}

export function certificatesOf(
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

export function writeRequirement(
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
