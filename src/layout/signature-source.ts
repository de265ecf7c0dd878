import { type Descriptor, MEDIA_TYPE } from '../oci/index.js';
import type { OciLayout } from './oci-layout.js';

/** The verify core's SignatureSource, backed by an OCI layout. */
export function layoutSignatureSource(layout: OciLayout) {
  return {
    listSignatures: (artifact: Descriptor) => layout.listReferrers(artifact, MEDIA_TYPE.notarySignature),
    fetchManifest: (d: Descriptor) => layout.fetchManifest(d),
    fetchBlob: (d: Descriptor) => layout.fetchBlob(d),
  };
}
