# Cairn — make targets are the interface (see README).
GO        ?= go
BIN       := bin/cairn
PKGS      := ./...
FUZZTIME  ?= 3s
DATA      ?= ./data

.PHONY: all build run run-tls certs test unit fuzz vet cross static lint bench clean

all: build

build:
	$(GO) build -o $(BIN) .
	ln -sf cairn bin/terraform-provider-cairn

# A local 4+2 erasure-coded server over six drive directories with dev credentials.
run: build
	mkdir -p $(DATA)
	$(BIN) server --dev --address 127.0.0.1:9000 $(DATA)/d{1...6}

# A development CA and certificate in ./certs, then the same server over TLS.
certs: build
	$(BIN) certs --dir ./certs --host localhost,127.0.0.1

run-tls: certs
	mkdir -p $(DATA)
	$(BIN) server --dev --address 127.0.0.1:9000 --certs-dir ./certs $(DATA)/d{1...6}

test: vet cross unit fuzz

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt needed" && exit 1)

unit: build
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# Every parser's fuzz target, briefly (CI); run longer with FUZZTIME=5m.
fuzz:
	@set -e; for spec in $$(scripts/fuzz-targets); do \
		pkg=$${spec%%:*}; name=$${spec##*:}; \
		echo "fuzz $$pkg $$name"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg >/dev/null || \
			$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

# The binary builds for the other platforms users run (Windows uses the portable
# local drive in server/internal/drive/local_other.go), and as a static binary.
cross: static
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null .
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null .

# A static binary (no cgo, no libc) for this GOOS/GOARCH: the Dockerfile runs the
# same command, and modules/onprem installs such a binary (GOOS=linux make static).
# tests/deploy TestDockerfile checks both and the binary.
STATIC_BUILD = CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w"
static:
	$(STATIC_BUILD) -o bin/cairn-static .

lint: vet

# examples/local applied for real (3 nodes × 2 drives on loopback, provider from a
# filesystem mirror): tests/deploy; also part of `make unit`.
.PHONY: e2e-local
e2e-local:
	$(GO) test -count=1 -timeout 10m -run '^TestLocalExample$$' -v ./tests/deploy

# modules/onprem applied for real over SSH to three loopback hosts (needs sshd:
# apt-get install openssh-server); also part of `make unit`.
.PHONY: e2e-onprem tf-modules
e2e-onprem:
	$(GO) test -count=1 -timeout 10m -run '^TestOnpremModule$$' -v ./tests/deploy

# Every deployment module's terraform test (mocked cloud providers, offline) and
# the Kubernetes objects parsed strictly; also part of `make unit`.
tf-modules:
	$(GO) test -count=1 -timeout 10m -run '^(TestCloudModules|TestKubernetesManifests|TestDockerfile)$$' -v ./tests/deploy

# Go benchmarks of the data path (the load generator against a running server is `cairn bench`).
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=1s ./server/internal/...

# The provider in Terraform's implied filesystem mirror, so `terraform init` finds
# cairn/cairn without a registry (a mirror needs a real file, not the symlink).
PROVIDER_VERSION ?= 0.1.0
PROVIDER_MIRROR   = $(HOME)/.terraform.d/plugins/registry.terraform.io/cairn/cairn/$(PROVIDER_VERSION)/$(shell $(GO) env GOOS)_$(shell $(GO) env GOARCH)

.PHONY: install-provider docs
install-provider: build
	mkdir -p $(PROVIDER_MIRROR)
	cp -f $(BIN) $(PROVIDER_MIRROR)/terraform-provider-cairn_v$(PROVIDER_VERSION)

# Provider documentation (provider/docs) from the schema and provider/examples.
docs:
	$(GO) run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@v0.24.0 generate \
		--provider-dir . --provider-name cairn --examples-dir provider/examples \
		--website-source-dir provider/templates --rendered-website-dir provider/docs

clean:
	rm -rf bin
