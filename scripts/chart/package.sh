#!/usr/bin/env bash
# Packages charts/portcullis as `helm package` lays it out (no helm binary here): a gzipped tar
# named <name>-<version>.tgz whose entries all sit under <name>/. Files matching .helmignore's
# simple patterns are left out. Reproducible: sorted entries, fixed owner and mtime.
#
#   scripts/chart/package.sh [OUTDIR]      # default OUTDIR: dist/chart; prints the file's path
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
chart="$root/charts/portcullis"
out="${1:-$root/dist/chart}"
name="$(sed -n 's/^name: *//p' "$chart/Chart.yaml" | head -1)"
version="$(sed -n 's/^version: *//p' "$chart/Chart.yaml" | head -1 | tr -d '"')"
[[ -n $name && -n $version ]] || { echo "package.sh: cannot read name/version from Chart.yaml" >&2; exit 1; }
mkdir -p "$out"
excludes=()
while IFS= read -r pattern; do
  [[ -z $pattern || $pattern == \#* ]] && continue
  excludes+=("--exclude=${pattern%/}")
done < "$chart/.helmignore"
file="$out/$name-$version.tgz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00:00Z' \
  "${excludes[@]}" -C "$(dirname "$chart")" -cf - "$(basename "$chart")" | gzip -n > "$file"
echo "$file"
