# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xlb top-level Makefile (libbpf-bootstrap shape: everything built goes to .output/).

OUTPUT      := .output
CLANG       ?= $(shell command -v clang 2>/dev/null || ls /usr/bin/clang-[0-9]* 2>/dev/null | sort -V | tail -n1)
BPFTOOL     ?= $(shell command -v bpftool 2>/dev/null || ls /usr/sbin/bpftool 2>/dev/null)
CC          ?= gcc
PKG_CONFIG  ?= pkg-config
ARCH        := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null)
VERSION     := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
COMMIT      := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

PREFIX      ?= /usr/local
DESTDIR     ?=

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS   := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)

WARN        := -Wall -Wextra -Werror
CFLAGS      ?= -O2 -g
CFLAGS      += $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I$(OUTPUT) $(LIBBPF_CFLAGS) \
               -DXLB_VERSION='"$(VERSION)"' -DXLB_COMMIT='"$(COMMIT)"'
LDLIBS      += $(LIBBPF_LIBS) -lelf -lz -lpthread -ljansson -lcurl
BPF_CFLAGS  := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) $(WARN) \
               -Wno-unused-function -Iinclude -Ibpf $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

# The userspace tests and the library they link are built with ASan+UBSan.
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS    := bpf/xlb.bpf.c bpf/decap.bpf.c bpf/bench.bpf.c bpf/hc.bpf.c
BPF_HDRS    := $(wildcard bpf/*.bpf.h) $(wildcard include/xlb/*.h)
BPF_OBJS    := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS       := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

LIB_SRCS    := user/xlb.c user/addr.c user/log.c user/maglev.c user/vipring.c user/config.c user/lb.c user/api.c user/ctlsock.c user/cli.c user/health.c \
               user/hcmgr.c user/expo.c user/metrics.c user/hcpath.c
LIB_OBJS    := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(LIB_SRCS))
LIB         := $(OUTPUT)/libxlb.a
SAN_OBJS    := $(patsubst user/%.c,$(OUTPUT)/san/%.o,$(LIB_SRCS))
SAN_LIB     := $(OUTPUT)/san/libxlb.a

PROGS       := $(OUTPUT)/xlb-decap $(OUTPUT)/xlbd $(OUTPUT)/xlbctl
TEST_PROGS  := $(OUTPUT)/tests/test_prog $(OUTPUT)/tests/test_ct \
               $(OUTPUT)/tests/lbsetup $(OUTPUT)/tests/test_unit \
               $(OUTPUT)/tests/test_maglev $(OUTPUT)/tests/test_config \
               $(OUTPUT)/tests/test_lb $(OUTPUT)/tests/test_cli \
               $(OUTPUT)/tests/test_ctlsock $(OUTPUT)/tests/test_health \
               $(OUTPUT)/tests/test_metrics $(OUTPUT)/tests/hcprobe $(OUTPUT)/tests/test_hc
BENCH_PROGS := $(OUTPUT)/tests/bench_prog $(OUTPUT)/tests/bench_maglev \
               $(OUTPUT)/tests/bench_failover $(OUTPUT)/tests/bench_metrics $(OUTPUT)/tests/bench_health

.DELETE_ON_ERROR:
.PHONY: all check bench demo deps install clean help

all: $(BPF_OBJS) $(SKELS) $(LIB) $(PROGS) $(TEST_PROGS) $(BENCH_PROGS)

help:
	@echo 'make            build the BPF objects, skeletons, library, tools and tests'
	@echo 'make deps       install every Debian package the build and tests need (root)'
	@echo 'make demo       install deps, build, and balance real TCP traffic across backends in netns (root)'
	@echo 'make check      run every test (unit, packet, netns; root); ends "N passed, N failed"'
	@echo 'make bench      print the data plane cost per packet (root)'
	@echo 'make install    install tools and objects under $$(DESTDIR)$$(PREFIX)'
	@echo 'make clean      remove .output/'
	@echo 'V=1             show the commands'

deps:
	$(Q)./tools/deps.sh

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/san:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)test -n "$(CLANG)" || { echo "clang not found: run 'make deps'" >&2; exit 1; }
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o
	$(Q)rm -f $@.tmp.o

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(wildcard user/*.h) $(wildcard include/xlb/*.h) $(SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(OUTPUT)/san/%.o: user/%.c $(wildcard user/*.h) $(wildcard include/xlb/*.h) $(SKELS) | $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(SAN_LIB): $(SAN_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(OUTPUT)/xlb-decap: user/xlb-decap.c $(LIB) | $(OUTPUT)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(OUTPUT)/xlbd: user/xlbd.c $(LIB) | $(OUTPUT)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -ljansson -lsystemd -lmicrohttpd -lcurl -o $@

$(OUTPUT)/xlbctl: user/xlbctl.c $(LIB) | $(OUTPUT)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -ljansson -o $@

$(OUTPUT)/tests/test_unit: tests/unit/test_unit.c $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_LIB) $(LDLIBS) -lcmocka -o $@

$(OUTPUT)/tests/test_maglev: tests/unit/test_maglev.c $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_LIB) $(LDLIBS) -lcmocka -o $@

$(OUTPUT)/tests/test_config: tests/unit/test_config.c $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_LIB) $(LDLIBS) -ljansson -lcmocka -o $@

$(OUTPUT)/tests/test_cli: tests/unit/test_cli.c $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_LIB) $(LDLIBS) -ljansson -lcmocka -o $@

$(OUTPUT)/tests/test_ctlsock: tests/unit/test_ctlsock.c $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_LIB) $(LDLIBS) -ljansson -lcmocka -o $@

$(OUTPUT)/tests/test_health: tests/unit/test_health.c $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_LIB) $(LDLIBS) -lcurl -ljansson -lcmocka -o $@

$(OUTPUT)/tests/test_metrics: tests/unit/test_metrics.c $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $< $(SAN_LIB) $(LDLIBS) -lm -lcmocka -o $@

$(OUTPUT)/tests/bench_metrics: tests/bench/bench_metrics.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -ljansson -lmicrohttpd -lcurl -lm -o $@

$(OUTPUT)/tests/bench_maglev: tests/bench/bench_maglev.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(OUTPUT)/tests/bench_failover: tests/bench/bench_failover.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/prog/%.c tests/prog/harness.h $(SAN_LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -Itests/prog $< $(SAN_LIB) $(LDLIBS) -ljansson -o $@

$(OUTPUT)/tests/lbsetup: tests/netns/lbsetup.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(OUTPUT)/tests/hcprobe: tests/netns/hcprobe.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -lcurl -o $@

$(OUTPUT)/tests/bench_health: tests/bench/bench_health.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -lcurl -o $@

$(OUTPUT)/tests/bench_prog: tests/bench/bench_prog.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

check: all
	$(Q)./tests/run.sh

bench: all
	$(Q)./tests/bench/run.sh

# The newcomer's first command: install what is missing, build, run the demo.
demo:
	$(Q)./tools/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./tools/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/xlb
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 $(OUTPUT)/xlb.bpf.o $(OUTPUT)/decap.bpf.o $(DESTDIR)$(PREFIX)/lib/xlb/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' deploy/xlb-decap@.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/xlb-decap@.service
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' deploy/xlbd.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/xlbd.service
	install -d $(DESTDIR)/etc/xlb
	test -e $(DESTDIR)/etc/xlb/xlb.json || install -m 0644 deploy/xlb.json $(DESTDIR)/etc/xlb/xlb.json

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)
