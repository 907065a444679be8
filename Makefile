# The two commands every user starts with: `make run` and `make test` (see README.md).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build run test unit e2e bench clean

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the reference agent and the gateway with the default config; Ctrl-C stops both.
run: build
	@bash scripts/run-demo.sh $(BUILD_DIR)/warmline

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

e2e: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -L e2e

bench: build
	@bash scripts/run-bench.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
