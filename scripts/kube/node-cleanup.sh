#!/usr/bin/env bash
# Removes what an interrupted node scenario (make e2e-node) left behind: its processes (kubelet,
# containerd, the API server on 10.244.0.1, their etcd, pod containers), mounts and temp dirs
# under /tmp/portcullis-node-*, the KUBE-* iptables chains, the kubepods cgroups and the
# portcullis0 bridge. The test's own stop() does this when it ends normally. Root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec node_modules/.bin/tsx -e "import('./test/helpers/kube/node-host.ts').then((m) => { for (const line of m.cleanupLeftNode()) console.log(line); })"
