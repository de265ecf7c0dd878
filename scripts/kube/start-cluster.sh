#!/usr/bin/env bash
# Start etcd and kube-apiserver v1.20.2 on 127.0.0.1 (random free ports, a fresh temp dir) for
# manual work; prints `export KUBECONFIG=...` and runs until Ctrl-C, which stops both and
# removes the temp dir. The same code (test/helpers/kube/cluster.ts) backs the e2e tests.
#
#   scripts/kube/start-cluster.sh
#   PORTCULLIS_BUILD_APISERVER=1 scripts/kube/start-cluster.sh   # build the binary if missing
#   PORTCULLIS_KEEP_CLUSTER_DIR=1 scripts/kube/start-cluster.sh  # keep certs/logs/etcd data
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ -x node_modules/.bin/tsx ]] || { echo "start-cluster: run 'make install' first (needs tsx)" >&2; exit 1; }
exec node_modules/.bin/tsx test/helpers/kube/run-cluster.ts
