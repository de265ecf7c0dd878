import type { EnforcementAction } from '../policyset/index.js';

/**
 * What the importers (`portcullis import ratify|kyverno`) take and give. An importer is pure:
 * objects in (as YAML parsing produced them, each with the file and document it came from),
 * portcullis.dev manifests and notes out. Reading files and writing the result is the CLI's job.
 */

/** One object of an input file: `origin` is `file.yaml#3` (the third document), for notes. */
export interface InputObject {
  readonly object: unknown;
  readonly origin: string;
}

/**
 * `info`: carried over, perhaps in another form (a Verifier became a ClusterTrustPolicy).
 * `warning`: not carried over, or carried over differently: the converted policy enforces
 * something else than the original (always stricter, never looser: see docs/migrating.md).
 */
export type NoteLevel = 'info' | 'warning';

export interface ConversionNote {
  readonly level: NoteLevel;
  /** The input object the note is about: `Verifier verifier-notation (ratify.yaml#2)`. */
  readonly subject: string;
  readonly message: string;
}

/** A portcullis.dev manifest (TrustPolicy, ClusterTrustPolicy, TrustStore, ClusterTrustStore). */
export type Manifest = Record<string, unknown>;

export interface Conversion {
  readonly manifests: readonly Manifest[];
  readonly notes: readonly ConversionNote[];
  /** How many input objects the importer recognised and converted (at least in part). */
  readonly converted: number;
}

export interface ConvertOptions {
  /**
   * enforcementAction of every policy written. Default: Ratify has none of its own (Gatekeeper's
   * constraint decides), so `deny`; Kyverno's comes from each policy (Enforce → deny, Audit → dryrun).
   */
  readonly enforcementAction?: EnforcementAction;
}
