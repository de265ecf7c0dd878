# syntax=docker/dockerfile:1
#
# Portcullis container image: `make image` (docker build -t portcullis:<version> .).
#
# Base images are pinned by tag, not by digest: digests cannot be looked up from the machines
# this was written on (no registry access besides Debian and npm). Pin them by digest when you
# build (docker buildx imagetools inspect <image>) and let a bot such as Renovate update them.
#
# Node 22 (an LTS line, supported until April 2027) runs the image, while package.json accepts
# Node >= 20.19 for people running the CLI themselves: the image should start on the newest LTS
# with the longest support left, and Node 20 reaches end of life in April 2026. The distroless
# image carries that Node and nothing else: no shell, no package manager.

# The base images are build arguments so that a machine without access to Docker Hub and gcr.io
# can build with stand-ins (scripts/image/build.sh makes them from Debian packages and npm's
# Node.js binary); the defaults are the real images, and nothing else changes.
ARG NODE_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# Build: all dependencies, compile TypeScript to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only (no TypeScript, vitest, eslint, tsx), without install scripts.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: distroless Node 22 as the nonroot user (65532).
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# package.json is needed at run time: "type": "module" makes dist/*.js ES modules.
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 65532:65532
# HTTPS: the admission webhook, the Gatekeeper provider, /healthz, /readyz and /metrics.
EXPOSE 8443
# Exec form throughout: no shell is needed (or present) at run time. The chart passes
# `serve --kubernetes --tls-cert ... --config ...` as arguments, replacing CMD.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/main.js"]
CMD ["serve"]
