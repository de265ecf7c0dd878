export { DOCKER_HUB, ImageReference, isValidReference, parseReference } from './reference.js';
