# Portcullis developer entry points. Every target installs what it needs first.
SHELL := /bin/bash
EXAMPLE_REF := examples/net-monitor-layout:v1

.PHONY: install build lint typecheck test unit demo bench clean kube-apiserver kube-apiserver-clean e2e image chart manifests
IMAGE ?= portcullis
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
## typecheck and every test (unit, conformance, CLI, registry and API-server end to end). CI runs this.
test: install kube-apiserver
	npm run lint
	npm run typecheck
	npm test

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

## image: the container image (needs a Docker engine; there is none on the development machines)
image:
	docker build -t $(IMAGE):$(VERSION) .

## chart: dist/chart/portcullis-<version>.tgz, laid out as `helm package` lays it out
chart:
	scripts/chart/package.sh dist/chart

## manifests: regenerate the CRDs (deploy/crds and the chart's crds/) and deploy/ from the chart
manifests: install
	npx tsx scripts/chart/crds.ts
	npx tsx scripts/chart/manifests.ts

bench: install
	npm run bench

clean:
	rm -rf dist coverage
