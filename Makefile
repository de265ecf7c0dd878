# Portcullis developer entry points. Every target installs what it needs first.
SHELL := /bin/bash
EXAMPLE_REF := examples/net-monitor-layout:v1

.PHONY: install build lint typecheck test unit demo bench clean

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json

build: install
	npm run build

lint: install
	npm run lint

typecheck: install
	npm run typecheck

## test: install, then lint, typecheck and every test (unit, conformance, CLI). CI runs this.
test: install
	npm run lint
	npm run typecheck
	npm test

## demo: install, build, verify the bundled example layout, then run the webhook locally with the
## example policies and a development certificate and show one pod allowed and one denied.
demo: build
	node dist/cli/main.js verify --config-dir examples/config --oci-layout $(EXAMPLE_REF)
	npx tsx scripts/demo.ts

bench: install
	npm run bench

clean:
	rm -rf dist coverage
