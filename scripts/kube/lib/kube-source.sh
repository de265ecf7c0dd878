# shellcheck shell=bash
# Shared by scripts/kube/build-apiserver.sh and scripts/kube/build-node.sh: fetch Debian
# bookworm's `kubernetes` source package (Kubernetes 1.20.2, with vendor/), make it build with
# Debian's Go 1.19 in GOPATH mode, and build commands from it. The recipe is the one recorded in
# ../shared/docs/kube-apiserver-harness.md; every fix says why it is needed.
#
# The caller sets, before sourcing: LOG_TAG (log prefix), CACHE_DIR (where binaries are cached)
# and WORK (the work tree: source, GOPATH, Go build cache). Everything else is derived here.

readonly KUBE_VERSION="v1.20.2"
# The commit v1.20.2 was tagged from (also the default compiled into the source package's
# component-base/version/base.go); only used for `--version` output.
readonly KUBE_GIT_COMMIT="faecb196815e248d3ecfb03c680a4507229c2a56"
readonly SRC="${WORK}/src"
readonly GOPATH_DIR="${WORK}/gopath"
readonly PKG_DIR="${GOPATH_DIR}/src/k8s.io/kubernetes"
readonly DEB_SRC_LIST="/etc/apt/sources.list.d/portcullis-deb-src.sources"

BUILD_PACKAGES=(dpkg-dev golang-go golang-github-modern-go-reflect2-dev
  golang-github-json-iterator-go-dev)

export DEBIAN_FRONTEND=noninteractive

START_SECONDS=${SECONDS}
log() { printf '[%s +%3ss] %s\n' "${LOG_TAG}" "$((SECONDS - START_SECONDS))" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "${LOG_TAG}" "$*" >&2
  exit 1
}

# apt-get and writing under /etc need root; use sudo when we are not root and it is available.
as_root() {
  if [[ ${EUID} -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n -E "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

package_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

APT_UPDATED=0
apt_update_once() {
  if [[ ${APT_UPDATED} -eq 0 ]]; then
    log "apt-get update"
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
}

# Install the given packages, but only those that are missing (so a warm machine makes no
# network request at all).
ensure_packages() {
  local missing=() p
  for p in "$@"; do package_installed "${p}" || missing+=("${p}"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  apt_update_once
  log "apt-get install ${missing[*]}"
  as_root apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
}

# Debian's source packages need a deb-src entry. Copy the `deb` stanzas of the machine's
# deb822 source list as `Types: deb-src` (same mirrors, suites and keys).
ensure_deb_src() {
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  local src=/etc/apt/sources.list.d/debian.sources
  [[ -f ${src} ]] || die "no ${src} to derive a deb-src entry from; add a deb-src line for bookworm"
  log "adding deb-src entries in ${DEB_SRC_LIST}"
  sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "${src}" | as_root tee "${DEB_SRC_LIST}" >/dev/null
  APT_UPDATED=0
  apt_update_once
}

# Download and unpack the `kubernetes` source package; dpkg-source applies Debian's patches.
fetch_source() {
  if [[ -f ${WORK}/.stamp-unpacked ]]; then
    log "source already unpacked in ${SRC}"
    return 0
  fi
  rm -rf "${WORK}/dl" "${SRC}"
  mkdir -p "${WORK}/dl"
  # apt drops privileges to _apt for downloads when it can; let it write here (otherwise it
  # warns and downloads as root, which also works).
  chmod 0777 "${WORK}/dl" 2>/dev/null || true
  log "downloading the kubernetes source package (~35 MB)"
  (cd "${WORK}/dl" && apt-get source --download-only kubernetes >/dev/null) ||
    die "apt-get source kubernetes failed (is the deb-src entry in ${DEB_SRC_LIST} working?)"
  local dsc
  dsc=$(ls "${WORK}"/dl/kubernetes_*.dsc)
  log "unpacking $(basename "${dsc}")"
  # dpkg-source cannot check the .dsc's OpenPGP signature (no Debian developer keyring here) and
  # says so; apt already verified the files against the signed archive index. Keep its chatter
  # in a log and show it only on failure.
  dpkg-source -x "${dsc}" "${SRC}" >"${WORK}/dpkg-source.log" 2>&1 ||
    die "dpkg-source failed: $(tail -20 "${WORK}/dpkg-source.log")"
  # This recipe (and the version strings) are for 1.20.2; fail loudly if Debian moved on.
  local version
  version=$(dpkg-parsechangelog -l "${SRC}/debian/changelog" -S Version)
  [[ ${version} == *1.20.2* ]] ||
    die "Debian's kubernetes source is ${version}, this script is written for ${KUBE_VERSION}"
  log "Debian source version ${version}"
  touch "${WORK}/.stamp-unpacked"
}

# The source tree has no go.mod that Go 1.19 accepts in module mode ("-mod=vendor" reports
# "updates to go.mod needed"), so build in GOPATH mode as debian/rules does: a GOPATH whose
# src/k8s.io/kubernetes is the unpacked source; vendor/ (with staging/ symlinked in) resolves
# every import.
setup_gopath() {
  mkdir -p "$(dirname "${PKG_DIR}")"
  ln -sfn "${SRC}" "${PKG_DIR}"
  export GOPATH="${GOPATH_DIR}"
  export GO111MODULE=off
  export GOPROXY=off
  export GOFLAGS=
  export CGO_ENABLED=0
  # Keep Go's build cache with the work tree, outside $HOME's default, so --clean removes it.
  export GOCACHE="${WORK}/go-build"
}

# Go 1.18 changed map internals; the vendored github.com/modern-go/reflect2 1.0.1 reads maps
# the old way and the server segfaults on the first custom-resource create. reflect2 1.0.2
# (with json-iterator 1.1.12, which expects it) fixes that. Take both from Debian's -dev
# packages, whose sources are under /usr/share/gocode/src.
replace_vendored() {
  local name=$1 from=$2
  local to="${SRC}/vendor/${name}"
  [[ -d ${from} ]] || die "${from} missing (package not installed?)"
  [[ -d ${to} ]] || die "${to} missing in the source tree"
  find "${to}" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) -delete
  find "${from}" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
    -exec cp -t "${to}" {} +
}

apply_fixes() {
  if [[ -f ${WORK}/.stamp-fixed ]]; then
    return 0
  fi
  log "replacing vendored reflect2 1.0.1 -> 1.0.2 and json-iterator 1.1.10 -> 1.1.12 (Debian's)"
  replace_vendored github.com/modern-go/reflect2 /usr/share/gocode/src/github.com/modern-go/reflect2
  replace_vendored github.com/json-iterator/go /usr/share/gocode/src/github.com/json-iterator/go
  touch "${WORK}/.stamp-fixed"
}

# pkg/generated/openapi/zz_generated.openapi.go is generated at build time upstream and is not
# in the source package; the API server (and the controller manager) do not compile without it.
# Build the vendored openapi-gen and run it over the packages the KUBE target of
# build/root/Makefile.generated_files selects: every Go package of the tree (staging/src/* named
# as vendor/*, skipping ./vendor, ./_* and ./.*) with a `// +k8s:` tag file that contains
# `+k8s:openapi-gen=`, except the code-generator and sample-apiserver examples.
generate_openapi() {
  local out="${SRC}/pkg/generated/openapi/zz_generated.openapi.go"
  if [[ -f ${WORK}/.stamp-openapi && -s ${out} ]]; then
    log "openapi already generated"
    return 0
  fi
  log "building openapi-gen"
  (cd "${PKG_DIR}" && go build -o "${WORK}/bin/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen)

  local dirs
  dirs=$(
    cd "${SRC}" &&
      find -H . \( -path './_*' -o -path './.*' -o -path ./vendor \) -prune -o \
        -type f -name '*.go' -print |
      sed 's|^\./staging/src|vendor|; s|^\./||' |
        grep -vE '^vendor/k8s\.io/(code-generator|sample-apiserver)/' |
        # resolve through the staging path for grepping, print the import dir
        while read -r f; do
          real=${f/#vendor\/k8s.io\//staging/src/k8s.io/}
          [[ ${f} == vendor/k8s.io/* ]] || real=${f}
          if grep -q '^// *+k8s:' "${real}" && grep -q '+k8s:openapi-gen=' "${real}"; then
            dirname "${f}"
          fi
        done | LC_ALL=C sort -u
  )
  local count
  count=$(wc -l <<<"${dirs}")
  [[ ${count} -gt 50 ]] || die "found only ${count} openapi input packages; the selection is wrong"
  log "generating pkg/generated/openapi from ${count} packages"
  local inputs
  inputs=$(awk '{ print "k8s.io/kubernetes/" $0 }' <<<"${dirs}" | paste -sd, -)
  # -r: the API-rule violation report. Upstream diffs it against a checked-in list; it does
  # not change the generated code, so we only keep it for reference.
  (cd "${PKG_DIR}" && "${WORK}/bin/openapi-gen" \
    --logtostderr --v 0 \
    -i "${inputs}" \
    -p k8s.io/kubernetes/pkg/generated/openapi \
    -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
    -r "${WORK}/openapi-violations.report") 2>"${WORK}/openapi-gen.log" ||
    die "openapi-gen failed; see ${WORK}/openapi-gen.log"
  [[ -s ${out} ]] || die "openapi-gen did not write ${out}"
  touch "${WORK}/.stamp-openapi"
}

# Builds ./cmd/<name> into ${CACHE_DIR}/<name>, checking that `--version` reports 1.20.2.
build_command() {
  local name=$1
  # In GOPATH mode vendored packages keep their vendor/ path in symbol names, hence the prefix
  # (the same flags hack/lib/version.sh passes). Without them `--version` says v0.0.0-master.
  local ldflags="-s -w" key val pkg
  local -A vars=(
    [gitVersion]="${KUBE_VERSION}" [gitMajor]=1 [gitMinor]=20
    [gitCommit]="${KUBE_GIT_COMMIT}" [gitTreeState]=archive
    [buildDate]="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  )
  for key in "${!vars[@]}"; do
    val=${vars[${key}]}
    for pkg in client-go/pkg/version component-base/version; do
      ldflags+=" -X k8s.io/kubernetes/vendor/k8s.io/${pkg}.${key}=${val}"
    done
  done
  log "building ${name}"
  (cd "${PKG_DIR}" && go build -trimpath -ldflags "${ldflags}" -o "${WORK}/${name}" "./cmd/${name}")
  local v
  v=$("${WORK}/${name}" --version 2>&1) || die "the freshly built ${name} does not run: ${v}"
  [[ ${v} == "Kubernetes ${KUBE_VERSION}" ]] || die "unexpected ${name} version output: ${v}"
  mv -f "${WORK}/${name}" "${CACHE_DIR}/${name}"
  log "built ${CACHE_DIR}/${name} (${v})"
}
