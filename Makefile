# The two commands: `make up` (a local 3-replica cluster, ./kubeconfig) and `make test`.
# Debug (ASan+UBSan, clang so fuzz targets build too) lives in build/debug, Release in
# build/release. Every target first runs scripts/setup.sh, which installs missing
# Debian packages.
JOBS ?= $(shell nproc)
DIR ?= ./cluster
REPLICAS ?= 3

.PHONY: all setup debug release release-all test up down status bench fuzz clean

all: release

setup:
	@./scripts/setup.sh

build/debug/Makefile: CMakeLists.txt | setup
	cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	  -DTRI_SANITIZE=ON -DTRI_FUZZ=ON >/dev/null

build/release/Makefile: CMakeLists.txt | setup
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null

debug: setup build/debug/Makefile
	cmake --build build/debug -j$(JOBS)

release: setup build/release/Makefile
	cmake --build build/release -j$(JOBS) --target triarchd triarch

release-all: setup build/release/Makefile
	cmake --build build/release -j$(JOBS)

# The Release build (gcc) is compiled too: it is what `make up` and `make bench` run,
# and gcc warns (-Werror) where clang does not.
test: debug release
	cd build/debug && ctest --output-on-failure -j$(JOBS) --timeout 900

up: release
	./build/release/triarch cluster up --dir $(DIR) --replicas $(REPLICAS) \
	  --bin-dir ./build/release
	cp $(DIR)/kubeconfig ./kubeconfig
	@echo "cluster up: kubectl --kubeconfig ./kubeconfig get nodes"

down:
	@if [ -x ./build/release/triarch ]; then ./build/release/triarch cluster down --dir $(DIR); fi
	rm -f ./kubeconfig

status: release
	./build/release/triarch cluster status --dir $(DIR)

bench: release-all
	@./scripts/setup.sh --bench
	./bench/run.sh

fuzz: debug
	./tests/fuzz/run-long.sh

clean:
	rm -rf build

# Every kubectl build 1.27-1.33 against one cluster, with the fuller case list of
# tests/integration/skew_cases.py (make test runs the quick subset).
.PHONY: test-skew
test-skew: setup build/debug/Makefile
	cmake --build build/debug -j$(JOBS) --target triarchd triarch
	/usr/bin/python3 tests/integration/test_skew.py --bin-dir build/debug --src-dir . --full
