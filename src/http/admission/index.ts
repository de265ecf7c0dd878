import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';
import { type ReviewEndpoint, reviewEndpoint } from './handler.js';
import { registerReviewRoute, type ReviewRouteOptions } from './route.js';

/** `POST /validate`: the validating admission webhook. */
export async function validateRoutes(app: FastifyInstance, options: ReviewRouteOptions): Promise<void> {
  registerReviewRoute(app, '/validate', options);
}

/** The validating webhook's endpoint (what its route calls). */
export function validateEndpoint(deps: RouteDeps): ReviewEndpoint {
  return reviewEndpoint('validate', deps);
}

export { decideReviewNow, planReview } from './decide.js';
export type { ReviewOutcome, ReviewPlan, ReviewStep } from './decide.js';
export { extractImages, HANDLED_KINDS } from './extract.js';
export type { ContainerImage, ContainerList, Extraction } from './extract.js';
export { ADMISSION_API_VERSION, parseAdmissionReview, reviewResponse } from './review.js';
export type { AdmissionRequestView, AdmissionResponse, AdmissionReviewResponse, GroupVersionKind } from './review.js';
export { reviewEndpoint } from './handler.js';
export type { ResponseExtender, ReviewAnswer, ReviewEndpoint, ReviewHandler } from './handler.js';
export { registerReviewRoute, writeAnswer } from './route.js';
export type { PendingAnswer, ReviewRouteOptions } from './route.js';
