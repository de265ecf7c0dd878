import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';
import { installReviewErrorHandler, registerReviewRoute } from './route.js';

/** `POST /validate`: the validating admission webhook. */
export async function validateRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  installReviewErrorHandler(app, deps, 'validate');
  registerReviewRoute(app, '/validate', 'validate', deps);
}

export { decideReview } from './decide.js';
export type { ReviewOutcome } from './decide.js';
export { extractImages, HANDLED_KINDS } from './extract.js';
export type { ContainerImage, ContainerList, Extraction } from './extract.js';
export { ADMISSION_API_VERSION, parseAdmissionReview, reviewResponse } from './review.js';
export type { AdmissionRequestView, AdmissionResponse, AdmissionReviewResponse, GroupVersionKind } from './review.js';
export { installReviewErrorHandler, registerReviewRoute } from './route.js';
export type { ResponseExtender } from './route.js';
