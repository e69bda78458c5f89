# tests/fuzz/fuzz.mk: libFuzzer harnesses, included at the end of the top
# Makefile (it uses B, CPPFLAGS, obj, CODEGEN_SRCS, UMH_CORE_SRCS and
# LDLIBS_BPF from there).
#   make fuzz-build   build/fuzz/fuzz_{xt,gen,umh,load}
#   make fuzz         every harness for 120 s (fuzz_load needs root)
#   make fuzz-smoke   ~15 s each, replays the seed and regression corpora
# Standalone: make -f Makefile -f tests/fuzz/fuzz.mk fuzz-build

FUZZ_B := $(B)/fuzz
FUZZ_CC := clang-14
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fPIC -Wall -Wextra $(FUZZ_SAN)
FUZZ_NAMES := fuzz_xt fuzz_gen fuzz_umh fuzz_load
FUZZ_BINS := $(addprefix $(FUZZ_B)/,$(FUZZ_NAMES))
FUZZ_LIB_OBJS := $(call obj,$(FUZZ_B),$(CODEGEN_SRCS) $(UMH_CORE_SRCS))

# Only pattern rules name the objects: keep them, they are not intermediate.
.SECONDARY: $(FUZZ_LIB_OBJS)

$(FUZZ_B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -I. $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_LIB_OBJS) $(LDLIBS_BPF) -lpthread

.PHONY: fuzz-build fuzz fuzz-smoke
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	tests/fuzz/run.sh --seconds 120

fuzz-smoke: fuzz-build
	tests/fuzz/run.sh --smoke
