# SPDX-License-Identifier: GPL-2.0
#
# exo: make            build exo.ko (against the running kernel), libexo,
#                      the examples, exoctl and the selftests
#      make demo       the demo library OS on Debian's stock kernel in a VM
#      make check      the test suite (what CI runs)
#      make check-flavours
#                      the same on 6.1's generic, cloud and PREEMPT_RT
#                      kernels (Documentation/kernels.rst)
#      make bench      exo's VM primitives against Linux's, in a VM
#      make bench-publish
#                      the last make bench of each kernel series into
#                      Documentation/bench/ (CSV, plots, reST tables)
#      make fuzz       a long run of the ioctl fuzzer on the debug kernel
#      make htmldocs   Documentation/ as HTML in build/htmldocs/ (Sphinx,
#                      warnings are errors)
#      make format FILES="module/exo_vm.c ..."
#                      rewrite files with the kernel's .clang-format
#      make install    exo.ko (through DKMS where it is installed), libexo,
#                      its headers, pkg-config file and man pages, exoctl
#                      and its man page, the udev rule; DESTDIR, PREFIX,
#                      MODULE_INSTALL below
#      make uninstall  the same, removed
#
# KDIR selects the kernel build tree (KVER names its release); the VM
# scripts pass the stock one.

# KVER alone (make install KVER=...) picks that kernel's build tree.
ifdef KVER
KDIR ?= /lib/modules/$(KVER)/build
endif
KDIR ?= /lib/modules/$(shell uname -r)/build
BUILD ?= $(CURDIR)/build
KSFT_DIR ?= $(shell $(CURDIR)/scripts/ksrc.sh)/tools/testing/selftests

.PHONY: all module libexo examples benchmarks selftests bpf-filters exoctl demo \
	check check-flavours bench bench-publish fuzz htmldocs deps sparse clean \
	install format uninstall \
	install-lib install-module install-dkms-src install-udev install-tools \
	install-module-dkms install-module-kbuild install-module-none \
	uninstall-lib uninstall-module uninstall-udev uninstall-tools

all: module libexo examples benchmarks selftests bpf-filters exoctl

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

exoctl:
	$(MAKE) -C exoctl O=$(BUILD)/exoctl

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 CF="-D__CHECK_ENDIAN__" modules

deps:
	scripts/deps.sh

demo:
	scripts/demo.sh

check:
	scripts/check.sh

check-flavours:
	scripts/check.sh flavours

bench:
	scripts/bench.sh

bench-publish:
	scripts/bench-publish.sh

fuzz:
	scripts/fuzz.sh

# Debian's Sphinx with the kernel's kernel-doc directive, taken from
# linux-source-6.1 into the cache (scripts/htmldocs.sh).
htmldocs:
	scripts/htmldocs.sh $(BUILD)/htmldocs

# The kernel's own style file, from linux-source-6.1 (never copied here).
format:
	@test -n "$(FILES)" || { echo 'usage: make format FILES="module/exo_vm.c ..."' >&2; exit 2; }
	@command -v clang-format >/dev/null || { echo "make format needs clang-format (apt-get install clang-format)" >&2; exit 1; }
	clang-format -i --style=file:$(shell $(CURDIR)/scripts/ksrc.sh)/.clang-format $(FILES)

# Installing (Documentation/install.rst). DESTDIR stages into a root of its
# own, as packagers do; PREFIX places libexo, its headers, pkg-config file
# and man pages (libexo/Makefile: LIBDIR, INCLUDEDIR, MANDIR too). The
# module goes where the kernel looks whatever PREFIX is:
#   MODULE_INSTALL=dkms    the sources for DKMS in /usr/src/exo-VERSION
#                          (DKMSDIR), then, with no DESTDIR, dkms add and
#                          dkms install for KVER; dkms rebuilds exo.ko for
#                          each new kernel after that
#   MODULE_INSTALL=kbuild  exo.ko built against KDIR, copied into
#                          /lib/modules/KVER/updates/ (not kbuild's
#                          modules_install, which signs with a key Debian's
#                          headers lack and leaves it in updates/module/),
#                          then, with no DESTDIR, depmod
#   MODULE_INSTALL=none    no module
# The default is dkms when the dkms command is there and DESTDIR is empty,
# kbuild otherwise. The udev rule goes where udev reads rules: the
# distribution's directory for PREFIX=/usr, the administrator's otherwise.
VERSION := $(shell cat $(CURDIR)/VERSION)
PREFIX ?= /usr/local
# The release a module built against KDIR is for (its vermagic): Debian's
# headers say 6.1.0-N-amd64 here, and the upstream 6.1.x in kernel.release.
KVER ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODULE_INSTALL ?= $(if $(DESTDIR),kbuild,$(if $(shell command -v $(firstword $(DKMS)) 2>/dev/null),dkms,kbuild))
DKMSDIR ?= /usr/src/exo-$(VERSION)
MODDIR ?= /lib/modules/$(KVER)/updates
UDEVRULESDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/udev/rules.d,/etc/udev/rules.d)
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
INSTALL ?= install
# The dkms command, with options if need be (--dkmstree, --no-depmod, ...).
DKMS ?= dkms

# What DKMS builds from: the Kbuild files, the module's and the uapi
# header's sources, and this Makefile's `module` and `clean` (dkms.conf).
DKMS_FILES := Kbuild Makefile VERSION dkms.conf module/Kbuild \
	$(filter-out %.mod.c,$(wildcard module/*.[ch])) \
	$(wildcard module/kunit/*.[ch]) $(wildcard module/trace/*.h) \
	uapi/linux/exo.h

install: install-lib install-module install-udev install-tools

install-lib: libexo
	$(MAKE) -C libexo O=$(BUILD)/libexo PREFIX=$(PREFIX) install

install-dkms-src:
	@test -n "$(DKMSDIR)" || { echo "DKMSDIR is empty" >&2; exit 1; }
	rm -rf "$(DESTDIR)$(DKMSDIR)"
	for f in $(DKMS_FILES); do \
		$(INSTALL) -D -m 644 "$$f" "$(DESTDIR)$(DKMSDIR)/$$f" || exit 1; \
	done

install-module:
	@case "$(MODULE_INSTALL)" in dkms|kbuild|none) ;; \
	*) echo "MODULE_INSTALL=$(MODULE_INSTALL): dkms, kbuild or none" >&2; exit 1 ;; esac
	$(MAKE) install-module-$(MODULE_INSTALL)

# A version already added is removed first (from every kernel), its
# sources replaced, then added and built again.
install-module-dkms:
ifeq ($(DESTDIR),)
	@test -n "$(KVER)" || { echo "no kernel build tree at $(KDIR): pass KVER=<kernel release> (its headers installed)" >&2; exit 1; }
	if $(DKMS) status -m exo -v $(VERSION) | grep -q .; then \
		$(DKMS) remove -m exo -v $(VERSION) --all; fi
	$(MAKE) install-dkms-src
	$(DKMS) add -m exo -v $(VERSION)
	$(DKMS) install -m exo -v $(VERSION) -k $(KVER)
else
	$(MAKE) install-dkms-src
endif

install-module-kbuild: module
	@test -n "$(KVER)" || { echo "no kernel build tree at $(KDIR): pass KDIR=/lib/modules/<release>/build" >&2; exit 1; }
	$(INSTALL) -D -m 644 module/exo.ko "$(DESTDIR)$(MODDIR)/exo.ko"
ifeq ($(DESTDIR),)
	depmod -a $(KVER)
endif

install-module-none:

# /dev/exo's group and mode (udev/60-exo.rules); the group is made here
# unless staging.
install-udev:
	$(INSTALL) -D -m 644 udev/60-exo.rules "$(DESTDIR)$(UDEVRULESDIR)/60-exo.rules"
ifeq ($(DESTDIR),)
	getent group exo >/dev/null || groupadd --system exo
endif

# exoctl (Documentation/exoctl.rst), an administrator's command, and its
# man page.
install-tools: exoctl
	$(INSTALL) -D -m 755 $(BUILD)/exoctl/exoctl "$(DESTDIR)$(SBINDIR)/exoctl"
	$(INSTALL) -D -m 644 exoctl/exoctl.8 "$(DESTDIR)$(MANDIR)/man8/exoctl.8"

uninstall: uninstall-lib uninstall-module uninstall-udev uninstall-tools

uninstall-lib:
	$(MAKE) -C libexo PREFIX=$(PREFIX) uninstall

# Whichever way it was installed; the group exo stays.
uninstall-module:
ifeq ($(DESTDIR),)
	if command -v $(firstword $(DKMS)) >/dev/null && \
	   $(DKMS) status -m exo -v $(VERSION) | grep -q .; then \
		$(DKMS) remove -m exo -v $(VERSION) --all; fi
	test -z "$(DKMSDIR)" || rm -rf "$(DKMSDIR)"
	if [ -e "$(MODDIR)/exo.ko" ]; then \
		rm -f "$(MODDIR)/exo.ko" && depmod -a $(KVER); fi
else
	test -z "$(DKMSDIR)" || rm -rf "$(DESTDIR)$(DKMSDIR)"
	rm -f "$(DESTDIR)$(MODDIR)/exo.ko"
endif

uninstall-udev:
	rm -f "$(DESTDIR)$(UDEVRULESDIR)/60-exo.rules"

uninstall-tools:
	rm -f "$(DESTDIR)$(SBINDIR)/exoctl" "$(DESTDIR)$(MANDIR)/man8/exoctl.8"

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(BUILD)
