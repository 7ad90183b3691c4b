# libFuzzer target for the TracingPolicy parser (lib/policy). Included by the top Makefile.
#
#   make fuzz                   build, then fuzz for FUZZ_SECONDS on a copy of the corpus
#   make fuzz FUZZ_SECONDS=600
#
# Inputs that crash are left in $(O)/fuzz/ (crash-*, leak-*, timeout-*) and fail the target.

FUZZ_SECONDS ?= 60
FUZZ_DIR := $(O)/fuzz
FUZZ_SRCS := $(wildcard lib/policy/*.c) lib/util.c lib/policy/fuzz/fuzz_policy.c
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -D_GNU_SOURCE -I. $(shell $(PKG_CONFIG) --cflags yaml-0.1)

$(FUZZ_DIR)/fuzz_policy: $(FUZZ_SRCS) $(wildcard lib/policy/*.h) lib/util.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) $(shell $(PKG_CONFIG) --libs yaml-0.1)

.PHONY: fuzz
fuzz: $(FUZZ_DIR)/fuzz_policy
	$(Q)rm -rf $(FUZZ_DIR)/corpus && mkdir -p $(FUZZ_DIR)/corpus
	$(Q)cp lib/policy/fuzz/corpus/* $(FUZZ_DIR)/corpus/
	$(Q)cd $(FUZZ_DIR) && ./fuzz_policy -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus
