export { OciLayout, DEFAULT_BLOB_MAX_BYTES } from './oci-layout.js';
export type { OciLayoutOptions } from './oci-layout.js';
export { layoutSignatureSource } from './signature-source.js';
export { parseLayoutReference } from './reference.js';
export type { LayoutReference } from './reference.js';
export { OciLayoutWriter } from './writer.js';
export { streamLayoutBlob, blobPath } from './blob-stream.js';
