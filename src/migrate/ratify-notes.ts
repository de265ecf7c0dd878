import { obj, str, type Notes, type Obj } from './notes.js';

// Ratify's Store and Policy resources: nothing to convert, only what to tell the user.

export function storeNote(subject: string, spec: Obj, notes: Notes): void {
  const auth = obj(obj(spec['parameters'])['authProvider']);
  const provider = str(auth['name']);
  if (provider !== undefined) {
    notes.warn(
      subject,
      `registry credentials from authProvider "${provider}" are not carried over: Portcullis reads a registry with the pod's imagePullSecrets (or its service account's), else kubernetes.defaultPullSecret and config.registries (docs/configuration.md)`,
    );
  } else {
    notes.info(subject, 'not needed: Portcullis reads referrers (signatures) from the registry itself');
  }
}

export function policyNote(subject: string, spec: Obj, notes: Notes): void {
  const type = str(spec['type']) ?? '';
  if (type.includes('rego')) {
    notes.warn(
      subject,
      'a Rego policy is not carried over: Portcullis admits an image only when every policy that applies to it admits it',
    );
  } else {
    notes.info(
      subject,
      'not needed: Portcullis admits an image only when every policy that applies to it admits it (its trust policy decides how many signatures must verify)',
    );
  }
}
