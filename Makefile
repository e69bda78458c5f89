# bpfilter: top-level build.
#   make            everything, -Wall -Wextra -Werror
#   make check      the whole suite (unit tests under ASan/UBSan, packet
#                   tests, selftests at XDP and tc, differential smoke)
#   make bench      benchmark tables (not part of check)
#   make install    honours PREFIX and DESTDIR

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/sbin
LIBDIR := $(PREFIX)/lib/bpfilter

CC ?= cc
CFLAGS ?= -O2 -g
WFLAGS := -Wall -Wextra -Werror
CPPFLAGS += -Iinclude -Icodegen -D_GNU_SOURCE -DBPFILTER_LIBDIR='"$(LIBDIR)"'
BASE_CFLAGS := $(CFLAGS) $(WFLAGS) -std=gnu11 -fPIC
LDLIBS_BPF := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) -lmnl

B := build
SAN := $(B)/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

CODEGEN_SRCS := $(sort $(wildcard codegen/*.c codegen/xt/*.c))
UMH_CORE_SRCS := $(sort $(filter-out umh/main.c,$(wildcard umh/*.c)))
CLI_SRCS := $(sort $(wildcard umh/cli/*.c))
PRELOAD_SRCS := $(sort $(wildcard umh/preload/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

obj = $(patsubst %.c,$(1)/%.o,$(2))

CODEGEN_OBJS := $(call obj,$(B),$(CODEGEN_SRCS))
UMH_CORE_OBJS := $(call obj,$(B),$(UMH_CORE_SRCS))
CLI_OBJS := $(call obj,$(B),$(CLI_SRCS))
PRELOAD_OBJS := $(call obj,$(B),$(PRELOAD_SRCS))
SAN_LIB_OBJS := $(call obj,$(SAN),$(CODEGEN_SRCS) $(UMH_CORE_SRCS))
SAN_UNIT_OBJS := $(call obj,$(SAN),$(UNIT_SRCS))

BINS := $(B)/bpfilter $(B)/bpfilter-umh $(B)/libbpfilter-preload.so

.PHONY: conntrack targets-test
.PHONY: rulesets-check rulesets-bench
.PHONY: rulesets faults translate packet-kernel progtest kmod-check demo all check unit packet packet-interp selftest difftest-smoke difftest difftest-ct bench install clean kmod
all: $(BINS) $(patsubst tests/tools/%.c,$(B)/tests/%,$(TOOL_SRCS))

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) -MMD -MP -c $< -o $@

$(SAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

$(B)/libbpfilter-codegen.a: $(CODEGEN_OBJS)
	$(AR) rcs $@ $^

$(B)/libbpfilter-umh.a: $(UMH_CORE_OBJS)
	$(AR) rcs $@ $^

$(B)/bpfilter-umh: $(B)/umh/main.o $(B)/libbpfilter-umh.a $(B)/libbpfilter-codegen.a
	$(CC) $(BASE_CFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(B)/bpfilter: $(CLI_OBJS) $(B)/libbpfilter-umh.a $(B)/libbpfilter-codegen.a
	$(CC) $(BASE_CFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(B)/libbpfilter-preload.so: $(PRELOAD_OBJS)
	$(CC) $(BASE_CFLAGS) -shared -o $@ $^ -ldl

$(B)/tests/%: tests/tools/%.c $(B)/libbpfilter-umh.a $(B)/libbpfilter-codegen.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BASE_CFLAGS) -o $@ $^ $(LDLIBS_BPF)

$(SAN)/unit-tests: $(SAN_UNIT_OBJS) $(SAN_LIB_OBJS)
	$(CC) $(BASE_CFLAGS) $(SANFLAGS) -o $@ $^ $(shell pkg-config --libs check) $(LDLIBS_BPF)

unit: $(SAN)/unit-tests
	cd tests/unit && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ../../$(SAN)/unit-tests

packet: all
	tests/packet/run.sh

# the IPv6 packet cases judged by the reference interpreter (bpfilter test --interp)
packet-interp: all
	tests/packet/run.sh --hook interp $(wildcard tests/packet/cases/*.rules6)

# a table the verifier rejects: clear errno, the verifier log, the old rules stay
faults: all
	tests/faults/run.sh --hook xdp
	tests/faults/run.sh --hook tc

# bpfilter translate as an unprivileged user
translate: all
	tests/translate/run.sh

# the packet tests' expected verdicts, checked against the kernel's own
# iptables-legacy; kernel6.py: the IPv6 facts codegen/gen6.c relies on and
# the IPv6 cases against ip6tables-legacy
packet-kernel: all
	tests/packet/run.sh --kernel
	tests/packet/kernel6.py
	tests/packet/kernel6.py --cases

selftest: all
	selftests/run.sh --hook xdp
	selftests/run.sh --hook tc
	selftests/matches.sh

# -j LOG / -j REJECT against the kernel's own targets, real traffic between netns
targets-test: all
	tests/targets/log.sh --hook xdp
	tests/targets/log.sh --hook tc
	tests/targets/reject.sh --hook xdp
	tests/targets/reject.sh --hook tc
	tests/targets/log.sh --hook xdp --ct
	tests/targets/log.sh --hook tc --ct
	tests/targets/reject.sh --hook xdp --ct
	tests/targets/reject.sh --hook tc --ct
	tests/targets/log6.sh --hook xdp
	tests/targets/log6.sh --hook tc
	tests/targets/reject6.sh --hook xdp
	tests/targets/reject6.sh --hook tc
	tests/targets/reject-output.sh
	tests/targets/ratelimit.sh --hook xdp
	tests/targets/ratelimit.sh --hook tc

difftest-smoke: all
	tests/diff/run.sh --smoke
	DIFF_PAIRS=10000 DIFF_COUNT=500 DIFF_SEED=smoke-2 DIFF_ATTACHED=2 DIFF_ATTACHED_COUNT=200 \
		tests/diff/campaign.sh
	DIFF_FAMILY=6 DIFF_PAIRS=5000 DIFF_COUNT=500 DIFF_SEED=smoke6-129 DIFF_ATTACHED=1 \
		DIFF_ATTACHED_COUNT=200 tests/diff/campaign.sh
	# the attached program with real frames (those rule sets use mark/limit/addrtype,
	# which it does not take): one plain rule set per family
	DIFF_PAIRS=1500 DIFF_COUNT=300 DIFF_SEED=smoke DIFF_ATTACHED=1 DIFF_ATTACHED_COUNT=200 \
		tests/diff/campaign.sh
	DIFF_FAMILY=6 DIFF_PAIRS=1500 DIFF_COUNT=300 DIFF_SEED=smoke6 DIFF_ATTACHED=1 \
		DIFF_ATTACHED_COUNT=200 tests/diff/campaign.sh
	# the stateful campaign, IPv6 (the IPv4 one runs in difftest-ct): ~30 s
	tests/diff/ctcamp.py --family 6 --sets 8 --seed smoke6 --jobs 2

# the full hand-written + random-packet comparison, then a random rule-set
# campaign (DIFF_PAIRS, default 200000; DIFF_SEED; DIFF_ATTACHED rule sets,
# default 10, also through the attached program with real frames), then an
# IPv6 one (DIFF6_PAIRS, default 50000)
difftest: all
	tests/diff/run.sh
	tests/diff/campaign.sh
	DIFF_FAMILY=6 DIFF_PAIRS=$${DIFF6_PAIRS:-50000} tests/diff/campaign.sh
	$(MAKE) --no-print-directory difftest-ct

# random conntrack/state rule sets and packet sequences, real packets through
# the kernel and the attached program at XDP and tc (CT_SETS, default 20 per
# family; CT_SEED; CT_FAMILY=4 or 6 for one family, default both)
difftest-ct: all
	rc=0; for f in $${CT_FAMILY:-4 6}; do \
		tests/diff/ctcamp.py --family $$f || rc=1; \
	done; exit $$rc

check: all unit progtest translate packet packet-interp packet-kernel selftest conntrack targets-test rulesets-check faults difftest-smoke fuzz-smoke kmod-check

# generated programs against the reference interpreter, attach/replace on veth, real pings
progtest: all
	$(B)/tests/progtest

# -m conntrack / -m state end to end: INPUT, OUTPUT and FORWARD against the
# kernel's iptables-legacy and ip6tables-legacy, packet by packet, at XDP and
# tc (tests/ct/)
conntrack: all
	tests/ct/run.sh
	tests/ct/forward.sh
	tests/ct/run.sh -6
	tests/ct/forward.sh -6
	tests/ct/nat.sh

# bpfilter.ko in a qemu guest running Debian's kernel. A skip (exit 4) is
# accepted only for non-root runs: as root the packages are there to run it.
kmod-check: all
	@rc=0; selftests/kmod/run.sh --hook tc --hook xdp || rc=$$?; \
	[ $$rc -eq 0 ] || { [ $$rc -eq 4 ] && [ "$$(id -u)" -ne 0 ]; }

bench: all
	tests/bench/run.sh

kmod:
	$(MAKE) -C kmod

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 0755 $(B)/bpfilter $(B)/bpfilter-umh $(DESTDIR)$(BINDIR)/
	install -m 0644 $(B)/libbpfilter-preload.so $(DESTDIR)$(LIBDIR)/

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

demo: all
	tests/demo/run.sh

# libFuzzer harnesses: fuzz-build, fuzz (120 s each), fuzz-smoke (15 s each)
include tests/fuzz/fuzz.mk

# Which real rule sets (tests/rulesets/) translate today: a report.
rulesets: all
	tests/rulesets/run.sh

# The real rule sets with their packet sequences, real packets between
# namespaces, verdicts of the kernel's iptables-legacy vs bpfilter at XDP
# and tc (TAP; tests/rulesets/README.md).
rulesets-check: all
	tests/rulesets/check.sh

# Per-packet cost of every real rule set with a NAME.bench packet: bpfilter
# (BPF_PROG_TEST_RUN at XDP and tc) vs the
# kernel's iptables-legacy, measured as make bench does.
rulesets-bench: all
	tests/rulesets/bench.sh
