export { convertRatify } from './ratify.js';
export { convertKyverno } from './kyverno.js';
export { checkManifests } from './check.js';
export { readInputObjects } from './input.js';
export { renderYaml, noteLine, invalidLine } from './render.js';
export { IMPORTED_FROM } from './manifests.js';
export type { Conversion, ConversionNote, ConvertOptions, InputObject, Manifest, NoteLevel } from './types.js';
