# Thin wrapper over scripts/setup.sh, CMake presets and CTest. See README.md.
PRESET ?= release
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

demo: build
	bash scripts/demo.sh $(KSPARSE)

bench: build
	bash bench/run.sh $(KSPARSE)

clean:
	rm -rf build
