#!/usr/bin/env bash
# Build the node and control-plane components Portcullis' node scenario (make e2e-node) needs —
# kubelet, kube-controller-manager, kube-scheduler and kube-proxy v1.20.2 — from the same Debian
# bookworm `kubernetes` source package scripts/kube/build-apiserver.sh builds kube-apiserver
# from, with the same fixes (scripts/kube/lib/kube-source.sh), and cache them outside the clone.
# It also installs what runs them: Debian's containerd, runc, CNI plugins
# (containernetworking-plugins), iptables and conntrack (kube-proxy), etcd and kubectl.
#
# Usage:
#   scripts/kube/build-node.sh               build what is missing (idempotent), print the dir
#   scripts/kube/build-node.sh --print-path  print the dir; exit 0 if every binary runs, 3 if not
#   scripts/kube/build-node.sh --clean       remove the cache (binaries and work tree)
#   scripts/kube/build-node.sh --keep-work   build, and keep the source/Go cache afterwards
# Environment:
#   PORTCULLIS_CACHE   cache root (default: $HOME/.cache/portcullis)
#
# Output: ${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}/kube-node-v1.20.2/{kubelet,kube-controller-manager,kube-scheduler,kube-proxy}
# Time: about 20 minutes on 2 busy cores from nothing (the four share most packages, so the
# first one is the slowest); kube-apiserver is not rebuilt (its own script caches it).

set -Eeuo pipefail

readonly CACHE_ROOT="${PORTCULLIS_CACHE:-${HOME}/.cache/portcullis}"
readonly CACHE_DIR="${CACHE_ROOT}/kube-node-v1.20.2"
readonly WORK="${CACHE_DIR}/work"
readonly LOG_TAG=build-node
# shellcheck source=lib/kube-source.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/kube-source.sh"
trap 'die "command failed (exit $?) at line ${LINENO}: ${BASH_COMMAND}"' ERR

readonly COMPONENTS=(kube-scheduler kube-proxy kubelet kube-controller-manager)
RUNTIME_PACKAGES=(containerd runc containernetworking-plugins iptables conntrack etcd-server openssl)

works() {
  [[ -x ${CACHE_DIR}/$1 ]] && "${CACHE_DIR}/$1" --version >/dev/null 2>&1
}

all_work() {
  local c
  for c in "${COMPONENTS[@]}"; do works "${c}" || return 1; done
}

main() {
  local keep_work=0
  case "${1:-}" in
    --print-path)
      echo "${CACHE_DIR}"
      all_work && exit 0
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
  exec 9>"${CACHE_DIR}/.lock"
  flock 9

  command -v apt-get >/dev/null || die "apt-get not found: this script expects Debian bookworm"
  ensure_packages "${RUNTIME_PACKAGES[@]}"
  if all_work; then
    log "cached: ${COMPONENTS[*]} in ${CACHE_DIR}"
    echo "${CACHE_DIR}"
    exit 0
  fi

  ensure_packages "${BUILD_PACKAGES[@]}"
  ensure_deb_src
  go version | grep -q 'go1\.19' || log "warning: expected Debian bookworm's Go 1.19, found: $(go version)"
  mkdir -p "${WORK}"
  fetch_source
  setup_gopath
  apply_fixes
  # kube-controller-manager serves its own OpenAPI (and the generated code is imported from it).
  generate_openapi
  local c
  for c in "${COMPONENTS[@]}"; do
    works "${c}" || build_command "${c}"
  done
  if [[ ${keep_work} -eq 0 ]]; then
    log "removing the work tree ${WORK} (pass --keep-work to keep it)"
    rm -rf "${WORK}"
  fi
  log "done in $((SECONDS - START_SECONDS))s"
  echo "${CACHE_DIR}"
}

main "$@"
