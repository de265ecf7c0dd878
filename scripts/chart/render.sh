#!/usr/bin/env bash
# Renders charts/portcullis like `helm template` (no helm binary can be installed here; see
# render.go for what is and is not supported). Builds scripts/chart/render.go once with Debian's
# Go and Helm's template library (sprig) into the cache, rebuilding when render.go changes:
#
#   scripts/chart/render.sh [--name portcullis] [--namespace NS] [-f values.yaml] [--set k=v] [--notes]
#                           [--upgrade] [--lookup objects.yaml] [CHART_DIR]
#
# CHART_DIR defaults to charts/portcullis. Installs golang-go and the -dev packages with apt-get
# when they are missing (root only). PORTCULLIS_CACHE overrides the cache dir.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}"
bin="$cache/chart-render"
stamp="$cache/chart-render.sha256"
gocode=/usr/share/gocode
want="$(sha256sum "$here/render.go" | cut -d' ' -f1)"

need_packages() {
  command -v go >/dev/null 2>&1 || return 0
  [[ -d $gocode/src/github.com/Masterminds/sprig && -d $gocode/src/github.com/ghodss/yaml && -d $gocode/src/gopkg.in/yaml.v2 ]] || return 0
  return 1
}

if [[ ! -x $bin || ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  if need_packages; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "render.sh: needs golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev golang-gopkg-yaml.v2-dev (apt-get install as root)" >&2
      exit 1
    fi
    echo "render.sh: installing Go and sprig from Debian" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev golang-gopkg-yaml.v2-dev) >&2
  fi
  mkdir -p "$cache"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src/chart-render"
  cp "$here/render.go" "$work/src/chart-render/main.go"
  (cd "$work/src/chart-render" && GO111MODULE=off GOPATH="$work:$gocode" GOCACHE="$cache/go-build" GOFLAGS= \
    go build -o "$bin.$$" .) >&2
  mv -f "$bin.$$" "$bin"
  echo "$want" > "$stamp.$$" && mv -f "$stamp.$$" "$stamp"
  rm -rf "$work"
  trap - EXIT
fi

# The last argument is the chart directory when it is one; otherwise the project's chart.
args=("$@")
if [[ ${#args[@]} -eq 0 || ! -f "${args[-1]}/Chart.yaml" ]] || [[ ${#args[@]} -ge 2 && ${args[-2]} =~ ^(-f|--values|--set|--set-string|--name|--namespace|--kube-version|--api-versions|--lookup)$ ]]; then
  args+=("$root/charts/portcullis")
fi
exec "$bin" "${args[@]}"
