#!/usr/bin/env bash
# The Kubernetes end-to-end scenario of test/e2e/kube.test.ts on a kind cluster, for people who
# have Docker (the development machines have no Docker engine, so CI runs the same scenario
# against a bare kube-apiserver instead). Needs: docker, kind, kubectl, helm, node 20+, and the
# `notation` or `portcullis` CLI on PATH.
#
#   e2e/kind/run.sh            # create a cluster, install, run the demo, keep the cluster
#   e2e/kind/run.sh --delete   # the same, then delete the cluster
set -euo pipefail
cd "$(dirname "$0")/../.."

CLUSTER=${CLUSTER:-portcullis-e2e}
REGISTRY_PORT=${REGISTRY_PORT:-5001}
IMAGE=portcullis:e2e
step() { printf '\n==> %s\n' "$*"; }

step "a local registry on localhost:${REGISTRY_PORT}, reachable from kind as kind-registry:5000"
docker inspect kind-registry >/dev/null 2>&1 ||
  docker run -d --restart=always -p "127.0.0.1:${REGISTRY_PORT}:5000" --network bridge --name kind-registry registry:2
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --config e2e/kind/cluster.yaml
docker network connect kind kind-registry 2>/dev/null || true

step "build and load the Portcullis image"
docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

step "install with Helm (CRDs, webhook, RBAC, generated certificates)"
helm upgrade --install portcullis charts/portcullis --namespace portcullis-system --create-namespace \
  --set image.repository=portcullis --set image.tag=e2e --set image.pullPolicy=Never \
  --set-json 'config.registries.hosts={"kind-registry:5000":{"plainHttp":true}}' --wait
kubectl label namespace kube-system kubernetes.io/metadata.name=kube-system --overwrite

step "images: net-monitor:v1 signed by a test key, nginx unsigned"
CONFIG=$(mktemp -d)
node dist/cli/main.js cert generate-test --config-dir "$CONFIG" --default wabbit-networks.io
docker pull -q nginx:alpine && docker tag nginx:alpine "localhost:${REGISTRY_PORT}/nginx:latest" && docker push -q "localhost:${REGISTRY_PORT}/nginx:latest"
docker tag nginx:alpine "localhost:${REGISTRY_PORT}/net-monitor:v1" && docker push -q "localhost:${REGISTRY_PORT}/net-monitor:v1"
node dist/cli/main.js sign --config-dir "$CONFIG" "localhost:${REGISTRY_PORT}/net-monitor:v1"

step "policies: the cluster baseline trusts the test key in namespaces labelled portcullis.dev/enforce=true"
kubectl create namespace secured --dry-run=client -o yaml | kubectl apply -f -
kubectl create namespace not-secured --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace secured portcullis.dev/enforce=true --overwrite
kubectl apply -f - <<YAML
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: wabbit-networks }
spec:
  type: ca
  certificates: |
$(sed 's/^/    /' "$CONFIG/localkeys/wabbit-networks.io.crt")
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: baseline }
spec:
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: wabbit-networks-images
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:wabbit-networks"]
      trustedIdentities: ["*"]
YAML

step "the demo"
kubectl run nginx --image=kind-registry:5000/nginx:latest -n not-secured            && echo "allowed in not-secured (expected)"
kubectl run nginx --image=kind-registry:5000/nginx:latest -n secured                && { echo "UNEXPECTED: allowed"; exit 1; } || echo "denied in secured (expected)"
kubectl run net-monitor --image=kind-registry:5000/net-monitor:v1 -n secured        && echo "signed image allowed in secured (expected)"
kubectl get clustertrustpolicies,trustpolicies -A

if [[ "${1:-}" == "--delete" ]]; then kind delete cluster --name "$CLUSTER"; fi
