# One build for the agent (tetragon), the manager (tetragon-manager) and the CLI (tetra).
# Out of tree into $(O) (default build/); generated files live only there.
#
#   make            build everything
#   make run        install missing packages, build, start manager + agent, show live events
#   make test       unit tests, host integration tests, the VM kernel matrix, format check
#   make bench      benchmarks (print tables)
#   make V=1        show the commands

O ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c
PKG_CONFIG ?= pkg-config
CLANG_FORMAT ?= clang-format
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_H ?=
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS := libbpf libelf zlib grpc libprotobuf-c libuv sqlite3 yaml-0.1 jansson
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	  -Wstrict-prototypes -Wshadow=local -fno-strict-aliasing -D_GNU_SOURCE \
	  -DTETRA_VERSION='"$(VERSION)"'
CPPFLAGS += -MMD -MP -I$(O)/gen -I. $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread -lm

# BPF: CO-RE objects compiled once, embedded in the binaries as skeletons.
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
	      -I$(O)/gen -Ibpf $(CLANG_BPF_SYS_INCLUDES)

# ---------------------------------------------------------------------------------------
# Sources

PROTO_TETRAGON := $(wildcard proto/tetragon/*.proto)
PROTO_FLEET := $(wildcard proto/fleet/*.proto)
PROTO_WKT := google/protobuf/timestamp.proto google/protobuf/wrappers.proto \
	     google/protobuf/duration.proto google/protobuf/field_mask.proto \
	     google/protobuf/any.proto
PROTO_GEN_C := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTO_TETRAGON) $(PROTO_FLEET)) \
	       $(patsubst %.proto,$(O)/gen/%.pb-c.c,$(PROTO_WKT))
PROTO_GEN_H := $(PROTO_GEN_C:.c=.h)
PROTO_OBJS := $(PROTO_GEN_C:.c=.o)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(O)/gen/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard lib/*.c lib/policy/*.c)
LIB_OBJS := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
LIBTETRA := $(O)/libtetra.a

AGENT_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c))
AGENT_OBJS := $(patsubst %.c,$(O)/%.o,$(AGENT_SRCS))
AGENT_LIB := $(O)/libagent.a
MANAGER_SRCS := $(filter-out manager/main.c,$(wildcard manager/*.c))
MANAGER_OBJS := $(patsubst %.c,$(O)/%.o,$(MANAGER_SRCS))
MANAGER_LIB := $(O)/libmanager.a
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst %.c,$(O)/%.o,$(CLI_SRCS))

BINS := $(O)/bin/tetragon $(O)/bin/tetra
ifneq ($(wildcard manager/main.c),)
BINS += $(O)/bin/tetragon-manager
endif

# Unit tests: <component>/tests/test_<module>.c, one binary each.
UNIT_SRCS := $(wildcard lib/tests/test_*.c agent/tests/test_*.c manager/tests/test_*.c cli/tests/test_*.c)
UNIT_BINS := $(patsubst %.c,$(O)/%,$(UNIT_SRCS))

# Integration test helpers (triggers) built from integration-tests/triggers/*.c
TRIGGER_SRCS := $(wildcard integration-tests/triggers/*.c)
TRIGGER_BINS := $(patsubst integration-tests/triggers/%.c,$(O)/triggers/%,$(TRIGGER_SRCS))
# Test clients that speak gRPC (linked with the shared library)
TOOL_SRCS := $(wildcard integration-tests/tools/*.c)
TOOL_BINS := $(patsubst integration-tests/tools/%.c,$(O)/tools/%,$(TOOL_SRCS))

FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v -f .clang-format-ignore)

.PHONY: all clean test test-all test-unit test-integration test-vm test-interop check-format format \
	run bench deps fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BINS) $(TRIGGER_BINS) $(TOOL_BINS)

# ---------------------------------------------------------------------------------------
# Generated code

ifeq ($(VMLINUX_H),)
VMLINUX_H := $(O)/gen/vmlinux.h
$(VMLINUX_H): | $(O)/gen
	$(call msg,GEN,$@)
	$(Q)if [ ! -r "$(VMLINUX_BTF)" ]; then \
		echo "error: no kernel BTF at $(VMLINUX_BTF); set VMLINUX_BTF=... or VMLINUX_H=..." >&2; exit 1; fi
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@
else
$(O)/gen/vmlinux.h: $(VMLINUX_H) | $(O)/gen
	$(Q)cp $< $@
endif

# The system call table of the build architecture, from the kernel's UAPI headers.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
UNISTD_H ?= $(firstword $(wildcard /usr/include/$(MULTIARCH)/asm/unistd_64.h /usr/include/asm/unistd_64.h /usr/include/asm-generic/unistd.h))
$(O)/gen/syscalls_table.h: $(UNISTD_H) | $(O)/gen
	$(call msg,GEN,$@)
	$(Q)awk '$$1 == "#define" && $$2 ~ /^__NR_/ && $$3 ~ /^[0-9]+$$/ { sub("__NR_", "", $$2); \
		printf "\t{ \"%s\", %s },\n", $$2, $$3 }' $< > $@.tmp && mv $@.tmp $@

$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: proto/%.proto | $(O)/gen
	$(call msg,PROTOC,$<)
	$(Q)$(PROTOC_C) --c_out=$(O)/gen -Iproto -I/usr/include $<

$(O)/gen/google/protobuf/%.pb-c.c $(O)/gen/google/protobuf/%.pb-c.h: /usr/include/google/protobuf/%.proto | $(O)/gen
	$(call msg,PROTOC,$<)
	$(Q)$(PROTOC_C) --c_out=$(O)/gen -I/usr/include google/protobuf/$*.proto

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(O)/gen/vmlinux.h | $(O)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(O)/gen/%.skel.h: $(O)/bpf/%.bpf.o | $(O)/gen
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(O)/gen $(O)/bpf $(O)/bin $(O)/triggers $(O)/tools:
	$(Q)mkdir -p $@

# Everything C depends on the generated headers existing.
GEN_HEADERS := $(PROTO_GEN_H) $(BPF_SKELS) $(O)/gen/syscalls_table.h

# ---------------------------------------------------------------------------------------
# C objects, libraries and binaries

$(O)/gen/%.pb-c.o: $(O)/gen/%.pb-c.c $(PROTO_GEN_H)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-shadow=local -c $< -o $@

$(O)/%.o: %.c | $(GEN_HEADERS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBTETRA): $(LIB_OBJS) $(PROTO_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(AGENT_LIB): $(AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(MANAGER_LIB): $(MANAGER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/bin/tetragon: $(O)/agent/main.o $(AGENT_LIB) $(LIBTETRA) | $(O)/bin
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bin/tetragon-manager: $(O)/manager/main.o $(MANAGER_LIB) $(LIBTETRA) | $(O)/bin
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/bin/tetra: $(CLI_OBJS) $(LIBTETRA) | $(O)/bin
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/triggers/%: integration-tests/triggers/%.c | $(O)/triggers
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -Wall -o $@ $<

$(O)/tools/%: integration-tests/tools/%.c $(LIBTETRA) | $(O)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBTETRA) $(LDLIBS)

# Unit tests link the component's library, the shared library and cmocka.
$(O)/lib/tests/%: lib/tests/%.c $(LIBTETRA)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DTEST_SRCDIR='"$(CURDIR)"' -o $@ $< $(LIBTETRA) $(LDLIBS) -lcmocka

$(O)/agent/tests/%: agent/tests/%.c $(AGENT_LIB) $(LIBTETRA)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DTEST_SRCDIR='"$(CURDIR)"' -o $@ $< $(AGENT_LIB) $(LIBTETRA) $(LDLIBS) -lcmocka

$(O)/manager/tests/%: manager/tests/%.c $(MANAGER_LIB) $(LIBTETRA)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DTEST_SRCDIR='"$(CURDIR)"' -o $@ $< $(MANAGER_LIB) $(LIBTETRA) $(LDLIBS) -lcmocka

$(O)/cli/tests/%: cli/tests/%.c $(filter-out $(O)/cli/tetra.o,$(CLI_OBJS)) $(LIBTETRA)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DTEST_SRCDIR='"$(CURDIR)"' -o $@ $^ $(LDLIBS) -lcmocka

# ---------------------------------------------------------------------------------------
# Tests, formatting, running

# On a fresh machine the packages come first, then the build in a new make: pkg-config
# is evaluated when make starts.
test:
	$(Q)./deploy/install-deps.sh --vm
	$(Q)$(MAKE) --no-print-directory O=$(O) test-all

test-all: all $(UNIT_BINS)
	$(Q)./integration-tests/run-all.sh $(O)

test-unit: $(UNIT_BINS)
	$(Q)./integration-tests/run-unit.sh $(O)

test-integration: all
	$(Q)./integration-tests/run.sh $(O)

test-vm: all
	$(Q)./integration-tests/vm/run-matrix.sh $(O)

check-format:
	$(call msg,FORMAT,check)
	$(Q)$(CLANG_FORMAT) --dry-run -Werror $(FORMAT_SRCS)

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRCS)

deps:
	$(Q)./deploy/install-deps.sh

run:
	$(Q)./deploy/run.sh $(O)

bench: all
	$(Q)./deploy/install-deps.sh --bench
	$(Q)./bench/run.sh $(O)

clean:
	$(Q)rm -rf $(O)

# Optional fragments owned by their directories (fuzzing, VM matrix).
-include $(wildcard lib/policy/fuzz/fuzz.mk integration-tests/vm/vm.mk)

-include $(wildcard $(O)/*/*.d $(O)/*/*/*.d $(O)/*/*/*/*.d)
