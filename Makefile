# Thin wrapper over scripts/setup.sh, CMake presets and CTest. See README.md.
# KSPARSE_CUDA=1 selects the cuda preset (and makes scripts/setup.sh build llama.cpp with CUDA).
PRESET ?= $(if $(filter 1,$(KSPARSE_CUDA)),cuda,release)
JOBS ?= $(shell nproc)
KSPARSE := build/$(PRESET)/ksparse
# Test selection: everything CI can afford (all labels). Narrow it with e.g. CTEST_ARGS='-L unit'.
CTEST_ARGS ?=

.PHONY: setup configure build test demo bench clean

setup:
	bash scripts/setup.sh

configure: setup
	cmake --preset $(PRESET)

build: configure
	cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	ctest --preset $(PRESET) -j $(JOBS) $(CTEST_ARGS)

# The whole workflow on the demo data (scripts/data.sh fetches it when ../shared/data is missing);
# a second `make demo` reruns nothing. Report: out/demo/report/report.html. Builds the CLI only
# (the test binaries are half of a full build).
demo: configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target ksparse
	KSPARSE_DATA_DIR="$$(bash scripts/data.sh)" $(KSPARSE) run configs/demo.toml

bench: build
	bash bench/run.sh $(KSPARSE)

clean:
	rm -rf build
