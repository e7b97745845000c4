# SPDX-License-Identifier: GPL-2.0
#
# exo: make            build exo.ko (against the running kernel), libexo,
#                      the example and the selftests
#      make demo       the demo library OS on Debian's stock kernel in a VM
#      make check      the test suite (what CI runs)
#      make bench      exo's VM primitives against Linux's, in a VM
#      make fuzz       a long run of the ioctl fuzzer on the debug kernel
#      make format FILES="module/exo_vm.c ..."
#                      rewrite files with the kernel's .clang-format
#
# KDIR selects the kernel build tree; the VM scripts pass the stock one.

KDIR ?= /lib/modules/$(shell uname -r)/build
BUILD ?= $(CURDIR)/build
KSFT_DIR ?= $(shell $(CURDIR)/scripts/ksrc.sh)/tools/testing/selftests

.PHONY: all module libexo examples benchmarks selftests bpf-filters demo \
	check bench fuzz deps sparse clean install format

all: module libexo examples benchmarks selftests bpf-filters

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

libexo:
	$(MAKE) -C libexo O=$(BUILD)/libexo

examples: libexo
	$(MAKE) -C examples O=$(BUILD)/examples LIBEXO=$(BUILD)/libexo

benchmarks: libexo
	$(MAKE) -C bench O=$(BUILD)/bench LIBEXO=$(BUILD)/libexo

selftests: libexo bpf-filters
	$(MAKE) -C selftests O=$(BUILD)/selftests LIBEXO=$(BUILD)/libexo \
		KSFT_DIR=$(KSFT_DIR) BPF_OUT=$(BUILD)/bpf-filters

bpf-filters:
	$(MAKE) -C bpf-filters O=$(BUILD)/bpf-filters

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 CF="-D__CHECK_ENDIAN__" modules

deps:
	scripts/deps.sh

demo:
	scripts/demo.sh

check:
	scripts/check.sh

bench:
	scripts/bench.sh

fuzz:
	scripts/fuzz.sh

# The kernel's own style file, from linux-source-6.1 (never copied here).
format:
	@test -n "$(FILES)" || { echo 'usage: make format FILES="module/exo_vm.c ..."' >&2; exit 2; }
	@command -v clang-format >/dev/null || { echo "make format needs clang-format (apt-get install clang-format)" >&2; exit 1; }
	clang-format -i --style=file:$(shell $(CURDIR)/scripts/ksrc.sh)/.clang-format $(FILES)

install: libexo
	$(MAKE) -C libexo O=$(BUILD)/libexo install

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(BUILD)
