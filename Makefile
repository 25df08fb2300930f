# sealpost - top-level entry points. The build itself is Meson + Ninja; this
# file only names the everyday tasks. Every target installs missing Debian
# packages first (scripts/install-deps).

BUILD        ?= build
PREFIX       ?= /usr/local
FUZZ_SECONDS ?= 300
export FUZZ_SECONDS

.PHONY: all deps build check bench eval fuzz demo install clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Everything CI runs: -Werror build, unit tests, the same under ASan+UBSan,
# banned functions, fuzz smoke runs, CLI integration tests, test vectors.
check: deps
	@scripts/check

bench: build
	@scripts/bench

# Recall, precision, false-positive rate and F2 of `sealpost scan` on the
# labelled DLP corpus (tests/corpus/dlp).
eval: build
	@scripts/eval
	@echo
	@echo "== holdout (tests/corpus/dlp-holdout, written independently; not a gate) =="
	@scripts/eval --corpus tests/corpus/dlp-holdout

fuzz: deps
	@scripts/fuzz $(FUZZ_SECONDS)

demo: build
	@scripts/demo

install: build
	DESTDIR=$(DESTDIR) meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
