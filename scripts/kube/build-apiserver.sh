#!/usr/bin/env bash
# Build Kubernetes' kube-apiserver v1.20.2 from Debian bookworm's `kubernetes` source package
# and cache the binary outside the clone, for Portcullis' end-to-end tests.
#
# Why this way: only Debian's archive and the npm registry are reachable from our machines, so
# kind and k3s (whose node images come from public registries) cannot run. Debian bookworm
# packages Kubernetes 1.20.2 as a source package that ships `vendor/`, and Debian's Go (1.19)
# can build it with a few fixes.
# The recipe is the one recorded in ../shared/docs/kube-apiserver-harness.md, shared with
# build-node.sh in lib/kube-source.sh; every fix there says why it is needed.
#
# Usage:
#   scripts/kube/build-apiserver.sh               build if needed (idempotent), print the path
#   scripts/kube/build-apiserver.sh --print-path  print the cached binary's path; exit 0 if it
#                                                  exists and runs, 3 if it does not (no build)
#   scripts/kube/build-apiserver.sh --clean       remove the cache (binary and work tree)
#   scripts/kube/build-apiserver.sh --keep-work   build, and keep the source/Go cache afterwards
#                                                  (later rebuilds take ~1 min instead of ~7)
# Environment:
#   PORTCULLIS_CACHE   cache root (default: $HOME/.cache/portcullis)
#
# Output: ${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}/kube-apiserver-v1.20.2/kube-apiserver
# It also makes sure the run-time tools are installed: etcd (Debian's etcd-server 3.4),
# openssl, and kubectl (the machine image ships a 1.32 client; on a machine without one,
# Debian's kubernetes-client 1.20 is installed as a fallback).

set -Eeuo pipefail

readonly CACHE_ROOT="${PORTCULLIS_CACHE:-${HOME}/.cache/portcullis}"
readonly CACHE_DIR="${CACHE_ROOT}/kube-apiserver-v1.20.2"
readonly BIN="${CACHE_DIR}/kube-apiserver"
readonly WORK="${CACHE_DIR}/work"
readonly LOG_TAG=build-apiserver
# shellcheck source=lib/kube-source.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/kube-source.sh"
trap 'die "command failed (exit $?) at line ${LINENO}: ${BASH_COMMAND}"' ERR

RUNTIME_PACKAGES=(etcd-server openssl)

binary_works() {
  [[ -x ${BIN} ]] && "${BIN}" --version >/dev/null 2>&1
}

ensure_runtime_tools() {
  ensure_packages "${RUNTIME_PACKAGES[@]}"
  command -v etcd >/dev/null || die "etcd not on PATH after installing etcd-server"
  # The machine image ships kubectl 1.32. Without it, fall back to Debian's 1.20 client, which
  # is enough for get/create/apply/run against this server.
  if ! command -v kubectl >/dev/null; then
    log "kubectl not found; installing Debian's kubernetes-client as a fallback"
    ensure_packages kubernetes-client
  fi
}

main() {
  local keep_work=0
  case "${1:-}" in
    --print-path)
      echo "${BIN}"
      binary_works && exit 0
      exit 3
      ;;
    --clean)
      log "removing ${CACHE_DIR}"
      rm -rf "${CACHE_DIR}"
      exit 0
      ;;
    --keep-work) keep_work=1 ;;
    "") ;;
    *) die "unknown argument: $1 (see the header of $0)" ;;
  esac

  mkdir -p "${CACHE_DIR}"
  # Several test workers may ask for the binary at once; build it only once.
  exec 9>"${CACHE_DIR}/.lock"
  flock 9

  if binary_works; then
    ensure_runtime_tools
    log "cached: $("${BIN}" --version)"
    echo "${BIN}"
    exit 0
  fi

  command -v apt-get >/dev/null || die "apt-get not found: this script expects Debian bookworm"
  ensure_runtime_tools
  ensure_packages "${BUILD_PACKAGES[@]}"
  ensure_deb_src
  go version | grep -q 'go1\.19' || log "warning: expected Debian bookworm's Go 1.19, found: $(go version)"
  mkdir -p "${WORK}"
  fetch_source
  setup_gopath
  apply_fixes
  generate_openapi
  log "about 6 minutes on 2 cores; ~1 minute with a warm Go cache"
  build_command kube-apiserver
  if [[ ${keep_work} -eq 0 ]]; then
    log "removing the work tree ${WORK} (pass --keep-work to keep it)"
    rm -rf "${WORK}"
  fi
  log "done in $((SECONDS - START_SECONDS))s"
  echo "${BIN}"
}

main "$@"
