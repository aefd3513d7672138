# `make test` is the one command that runs every check and test on a fresh machine; CI
# (.ci/run) calls exactly it. `make run` is `go run .`.
TOOLS ?= $(or $(HOCTAP_TOOLS_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/hoctap/bin)
export HOCTAP_MINIO_BIN ?= $(TOOLS)/minio
GO_TEST_FLAGS ?= -timeout 25m

.PHONY: test deps lint unit run bench fuzz

test: deps lint unit

deps:
	HOCTAP_TOOLS_DIR=$(TOOLS) ./scripts/test-deps.sh

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(TOOLS)/staticcheck ./...

unit:
	go test $(GO_TEST_FLAGS) ./...

run:
	go run .

# Longer runs, not part of `make test`.
bench:
	go test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 5m
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)
