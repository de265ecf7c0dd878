export { DOCKER_HUB, ImageReference, isValidReference, parseReference } from './reference.js';
export { canonicalRegistry, foldDockerHub, isLoopbackRegistry } from './registry-name.js';
export { canonicalScope } from './scope.js';
