# Portcullis developer entry points. Every target installs what it needs first.
SHELL := /bin/bash
EXAMPLE_REF := examples/net-monitor-layout:v1

.PHONY: install build lint typecheck test test-image unit demo bench clean kube-apiserver kube-apiserver-clean kube-node e2e e2e-node image image-standins chart manifests
IMAGE ?= portcullis
# Runs the rest of the line with a Docker engine: the one that answers, else Debian's dockerd
# started for the command and stopped after it (scripts/image/dockerd.sh).
WITH_DOCKER := scripts/image/with-docker.sh
VERSION := $(shell node -p "require('./package.json').version")

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json

build: install
	npm run build
	npm run bundle

lint: install
	npm run lint

typecheck: install
	npm run typecheck

## test: install (npm packages, and a kube-apiserver built once into ~/.cache/portcullis), then lint,
## typecheck and every test (unit, conformance, CLI, registry and API-server end to end), then the
## container image built and run (needs a Docker engine: .ci/run starts one). CI runs this.
test: install kube-apiserver
	npm run lint
	npm run typecheck
	npm test
	$(MAKE) test-image

## test-image: build the image with stand-in base images and run it as the chart does (test/image).
## Starts Debian's Docker engine if none answers (root), and stops it again afterwards.
test-image: install
	$(WITH_DOCKER) npx vitest run --config vitest.image.config.ts

## demo: install, build, verify the bundled example layout, then run the webhook locally with the
## example policies and a development certificate and show one pod allowed and one denied.
demo: build
	node dist/cli/main.js verify --config-dir examples/config --oci-layout $(EXAMPLE_REF)
	npx tsx scripts/demo.ts

## kube-apiserver: build kube-apiserver v1.20.2 from Debian's source once (3-6 min) and cache it; installs etcd.
kube-apiserver:
	scripts/kube/build-apiserver.sh

kube-apiserver-clean:
	scripts/kube/build-apiserver.sh --clean

## e2e: only the end-to-end tests (real registries, real API server).
e2e: install kube-apiserver
	npx vitest run test/e2e test/helpers/kube

## kube-node: build kubelet, kube-controller-manager, kube-scheduler, kube-proxy once (~20 min) and cache them.
kube-node:
	scripts/kube/build-node.sh

## e2e-node: a one-node cluster that starts pods (containerd, runc, CNI bridge) with Portcullis deployed
## from the chart's manifests; the demo, a rolling restart under load, digest pinning. Root; see docs/e2e.md.
e2e-node: install kube-apiserver kube-node
	$(WITH_DOCKER) npx vitest run --config vitest.node.config.ts

## image: the container image from the real base images (needs a Docker engine and access to Docker Hub and gcr.io)
image:
	docker build -t $(IMAGE):$(VERSION) .

## image-standins: the same image built with base images made here from Debian and npm (scripts/image/)
image-standins:
	scripts/image/build.sh $(IMAGE):$(VERSION)

## chart: dist/chart/portcullis-<version>.tgz, laid out as `helm package` lays it out
chart:
	scripts/chart/package.sh dist/chart

## manifests: regenerate the CRDs (deploy/crds, deploy/policyreport-crds, the chart's templates/crds/) and deploy/ from the chart
manifests: install
	npx tsx scripts/chart/crds.ts
	npx tsx scripts/chart/manifests.ts

bench: install
	npm run bench

clean:
	rm -rf dist coverage
