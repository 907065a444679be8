# The two commands every user starts with: `make run` and `make test` (see README.md).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build run test unit e2e bench clean test-asan test-tsan fuzz fuzz-smoke

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the reference agent and the gateway with the default config; Ctrl-C stops both.
run: build
	@bash scripts/run-demo.sh $(BUILD_DIR)/warmline

# The unit and e2e tests, then the fuzz smoke run (below).
test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke

unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

e2e: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -L e2e

bench: build
	@bash scripts/run-bench.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)

# The libFuzzer targets of tests/fuzz (tests/fuzz/README.md), built with clang in FUZZ_BUILD: each runs
# FUZZ_SMOKE_S seconds in `fuzz-smoke` (part of `make test`: ≈ 4 min build + 15 × 12 s on 2 cores) or
# FUZZ_S seconds in `fuzz`; FUZZ_TARGETS picks some (default: all). Any crash fails it.
FUZZ_BUILD ?= build-fuzz
FUZZ_SMOKE_S ?= 12
FUZZ_S ?= 600
FUZZ_TARGETS ?=

fuzz-smoke: deps
	@JOBS=$(JOBS) bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_S) $(FUZZ_TARGETS)

fuzz: deps
	@JOBS=$(JOBS) bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_S) $(FUZZ_TARGETS)

# AddressSanitizer + UBSan + LeakSanitizer build in ASAN_BUILD, then the unit and e2e tests; any failed
# test or any sanitizer report (including one from a gateway an e2e test started) fails it. Not part of
# `make test`: a cold build takes ~13 min on 2 cores, a warm run ~4 (bench/README.md, "Sanitizer run").
ASAN_BUILD ?= build-asan

test-asan: deps
	@JOBS=$(JOBS) CMAKE_FLAGS="$(CMAKE_FLAGS)" bash scripts/test-sanitizer.sh asan $(ASAN_BUILD)

# ThreadSanitizer build in TSAN_BUILD, then the unit and e2e tests; any failed test or any data race
# reported (by a unit test or a gateway an e2e test started) fails it. Not part of `make test`.
TSAN_BUILD ?= build-tsan

test-tsan: deps
	@JOBS=$(JOBS) CMAKE_FLAGS="$(CMAKE_FLAGS)" bash scripts/test-sanitizer.sh tsan $(TSAN_BUILD)

# Load scenarios (bench/README.md "Load scenarios"): never part of `make test`. Each target builds
# warmline + warmline-load in LOAD_BUILD (RelWithDebInfo), runs on 127.0.0.1, stops by itself, and
# writes its records and a REPORT.md under LOAD_REPORT; `load-all` runs them all (≈ 15 min) and
# publishes bench/results/. LOAD_CALLS sets the concurrencies of the streaming scenarios.
LOAD_BUILD ?= build-load
LOAD_URING_BUILD ?= build-load-uring
LOAD_REPORT ?= $(LOAD_BUILD)/load-report
LOAD_CALLS ?= 100,500,1000,2000
LOAD_SCEN = bench/load/scenarios
LOAD_ENV = LOAD_BUILD=$(LOAD_BUILD) LOAD_URING_BUILD=$(LOAD_URING_BUILD) JOBS=$(JOBS)
LOAD_GEN = --load $(LOAD_BUILD)/bench/load/warmline-load --report-dir $(LOAD_REPORT)
LOAD_REPORT_CMD = python3 $(LOAD_SCEN)/report.py --report-dir $(LOAD_REPORT) --out $(LOAD_REPORT) --calls $(LOAD_CALLS)

.PHONY: soak load-ai load-setup load-rtpengine load-kamailio load-uring load-bridged load-warm load-srtp load-tls load-scale load-all

# 1. AI-streamed calls at LOAD_CALLS concurrent calls.
load-ai:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/ai_streaming.py $(LOAD_GEN) --calls $(LOAD_CALLS) --builds epoll=$(LOAD_BUILD)/warmline
	@$(LOAD_REPORT_CMD)

# 2. Call-setup rate ramp with SIPp: without agent, and with the agent connect.
load-setup:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/setup_ramp.py --report-dir $(LOAD_REPORT) --warmline $(LOAD_BUILD)/warmline --targets warmline-noagent,warmline-agent
	@$(LOAD_REPORT_CMD)

# 3. The same RTP load relayed by rtpengine (userspace), beside warmline's AI calls from the same run.
load-rtpengine:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/ai_streaming.py $(LOAD_GEN) --calls $(LOAD_CALLS) --builds epoll=$(LOAD_BUILD)/warmline
	@python3 $(LOAD_SCEN)/rtp_relay.py $(LOAD_GEN) --calls $(LOAD_CALLS)
	@$(LOAD_REPORT_CMD)

# 4. The setup ramp through Kamailio's stateful proxy, beside warmline answering, same run.
load-kamailio:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/setup_ramp.py --report-dir $(LOAD_REPORT) --warmline $(LOAD_BUILD)/warmline --targets warmline-agent,kamailio
	@$(LOAD_REPORT_CMD)

# 5. warmline built with io_uring vs the default epoll build, same load, interleaved in one run.
load-uring:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh uring
	@python3 $(LOAD_SCEN)/ai_streaming.py $(LOAD_GEN) --calls $(LOAD_CALLS) --builds epoll=$(LOAD_BUILD)/warmline,uring=$(LOAD_URING_BUILD)/warmline
	@$(LOAD_REPORT_CMD)

# 6. Bridged calls (the agent transfers each call to a target the generator plays), beside rtpengine
# relaying the same packets in the same run. LOAD_BRIDGED_CALLS sets the concurrencies.
LOAD_BRIDGED_CALLS ?= 100,500
load-bridged:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/bridged.py --load $(LOAD_BUILD)/bench/load/warmline-load --warmline $(LOAD_BUILD)/warmline --report-dir $(LOAD_REPORT) --calls $(LOAD_BRIDGED_CALLS)

# 7. Warm transfers (issue 9): the calls warm-transferred (held with music while the target rings) and
# bridged, once with the agent leaving and once listening in (stereo frames of both parties).
load-warm:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@for after in leave listen; do python3 $(LOAD_SCEN)/bridged.py --load $(LOAD_BUILD)/bench/load/warmline-load --warmline $(LOAD_BUILD)/warmline --report-dir $(LOAD_REPORT) --calls $(LOAD_BRIDGED_CALLS) --transfer-mode warm --after-bridge $$after --no-rtpengine || exit 1; done

# 8. SRTP on the caller leg beside plain RTP (issue 11): for each of LOAD_SRTP_CALLS, plain, SRTP, plain,
# SRTP on the same gateway config (trunk srtp = "optional"); gateway CPU per call and the ratio in
# LOAD_REPORT/srtp.md.
LOAD_SRTP_CALLS ?= 100,300

load-srtp:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/srtp.py --load $(LOAD_BUILD)/bench/load/warmline-load --warmline $(LOAD_BUILD)/warmline --report-dir $(LOAD_REPORT) --calls $(LOAD_SRTP_CALLS)

# 8b. SIP over TLS beside SIP over UDP (issue 11): for each of LOAD_TLS_CALLS, udp, tls, udp, tls on the same
# gateway config (a udp: and a tls: listener); gateway CPU per call set-up and the ratio in LOAD_REPORT/tls.md.
LOAD_TLS_CALLS ?= 200,500

load-tls:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/tls.py --load $(LOAD_BUILD)/bench/load/warmline-load --warmline $(LOAD_BUILD)/warmline --report-dir $(LOAD_REPORT) --calls $(LOAD_TLS_CALLS)

# 9. Load at scale (issue 13): LOAD_GENERATORS warmline-load processes against one warmline with
# LOAD_SHARDS shards at each of LOAD_CALLS, then rtpengine relaying the same packets; one line per
# concurrency in LOAD_REPORT/scale.md (calls per core, both latencies, rtpengine beside warmline).
LOAD_SHARDS ?= 2
LOAD_GENERATORS ?= 2
load-scale:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/scale.py --load $(LOAD_BUILD)/bench/load/warmline-load --warmline $(LOAD_BUILD)/warmline --report-dir $(LOAD_REPORT) --calls $(LOAD_CALLS) --shards $(LOAD_SHARDS) --generators $(LOAD_GENERATORS)

# All of the above in one bounded run; publishes bench/results/ (REPORT.md, PNGs, raw records).
load-all:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh uring
	@$(LOAD_ENV) LOAD_CALLS=$(LOAD_CALLS) bash $(LOAD_SCEN)/run_all.sh

# Soak (bench/README.md "Soak"): one warmline for SOAK_S seconds, bridged calls (SOAK_CALLS at a time,
# cold transfers to a target) in a loop; RSS, fds and latency sampled every SOAK_SAMPLE_S into
# LOAD_BUILD/soak-report (soak.csv, soak.md). Fails on a failed call or on RSS / fd growth.
SOAK_S ?= 120
SOAK_CALLS ?= 20
SOAK_SAMPLE_S ?= 5
soak:
	@$(LOAD_ENV) bash $(LOAD_SCEN)/build.sh
	@python3 $(LOAD_SCEN)/soak.py --soak-s $(SOAK_S) --calls $(SOAK_CALLS) --sample-s $(SOAK_SAMPLE_S) --warmline $(LOAD_BUILD)/warmline --load $(LOAD_BUILD)/bench/load/warmline-load --report-dir $(LOAD_BUILD)/soak-report
