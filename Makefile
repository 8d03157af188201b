# whiteglove: a thin wrapper over Meson.  `make demo` and `make test` work
# on a fresh Debian 12 machine as root: they install what is missing first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
MESON_OPTS ?= --buildtype=debugoptimized --werror

# Every Debian package the project needs to build, test and demo.
PACKAGES = gcc libc6-dev make pkg-config meson ninja-build python3 \
	libssl-dev openssl libmicrohttpd-dev libcurl4-openssl-dev curl \
	libjansson-dev libsqlite3-dev libpq-dev libcmocka-dev \
	libtss2-dev swtpm swtpm-tools tpm2-tools libfaketime sqlite3 \
	postgresql postgresql-client util-linux procps ca-certificates \
	python3-cryptography libcjose-dev zlib1g-dev \
	libargon2-dev

.PHONY: all deps build demo test unit docs clean

all: build

deps:
	@missing=""; for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
			grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" -ne 0 ]; then \
			echo "make deps: missing packages:$$missing"; \
			echo "make deps: run as root to install them"; exit 1; \
		fi; \
		echo "make deps: installing$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) $(MESON_OPTS) -Db_sanitize=address,undefined \
		-Db_lundef=false

demo: build
	scripts/demo.sh $(BUILD)

test: build $(ASAN_BUILD)/build.ninja
	meson compile -C $(ASAN_BUILD)
	tests/run.sh $(BUILD) $(ASAN_BUILD)

# Regenerates docs/errors.md from the catalog (src/common/errors.def).
docs: build
	cp $(BUILD)/tools/errors.md docs/errors.md

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) .demo
