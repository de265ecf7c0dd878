#!/usr/bin/env bash
# Builds the project's container image from the unchanged Dockerfile with stand-in base images
# (scripts/image/standins.sh) instead of node:22-bookworm-slim and distroless nodejs22, for
# machines that reach no public image registry. Prints the image's name and size.
#
#   scripts/image/build.sh [TAG]        default TAG: portcullis:<package.json version>
#
# Needs a Docker engine (scripts/image/dockerd.sh start) and root (the stand-ins use
# debootstrap). The classic builder is used (DOCKER_BUILDKIT=0): BuildKit would fetch the
# `# syntax=docker/dockerfile:1` frontend from Docker Hub, and Debian's docker.io ships no buildx.
# Layers are cached by the engine, so a rebuild after a source change only redoes `npm run build`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER=${DOCKER:-docker}
version="$(node -p "require('${root}/package.json').version")"
tag="${1:-portcullis:${version}}"

mapfile -t standins < <("${root}/scripts/image/standins.sh")
[[ ${#standins[@]} -eq 2 ]] || { echo "build.sh: standins.sh did not name two images" >&2; exit 1; }

start=${SECONDS}
echo "[image] docker build -t ${tag} (NODE_IMAGE=${standins[0]}, RUNTIME_IMAGE=${standins[1]})" >&2
DOCKER_BUILDKIT=0 "${DOCKER}" build --quiet \
  --build-arg "NODE_IMAGE=${standins[0]}" \
  --build-arg "RUNTIME_IMAGE=${standins[1]}" \
  -t "${tag}" "${root}" >&2
size=$("${DOCKER}" image inspect --format '{{.Size}}' "${tag}")
echo "[image] built ${tag} in $((SECONDS - start)) s: $((size / 1000000)) MB ($((size / 1048576)) MiB)" >&2
echo "${tag}"
