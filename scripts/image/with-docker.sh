#!/usr/bin/env bash
# Runs a command with a Docker engine: the one that already answers, else Debian's dockerd
# started for it (scripts/image/dockerd.sh) and stopped afterwards, also when the command fails.
#
#   scripts/image/with-docker.sh COMMAND [ARG...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if "${here}/dockerd.sh" status; then
  exec "$@"
fi
"${here}/dockerd.sh" start
trap '"${here}/dockerd.sh" stop' EXIT
"$@"
