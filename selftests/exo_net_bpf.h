/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet handlers for the exo network tests: the ones bpf-filters/ builds
 * (in the guest at NET_BPF_DIR), loaded with libbpf, and tiny programs
 * written here instruction by instruction for the exact verdicts a test
 * needs.
 */
#ifndef EXO_NET_BPF_H
#define EXO_NET_BPF_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "exo_net_util.h"

/* libbpf's messages would interleave with the TAP output. */
static int net_bpf_quiet(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	return 0;
}

static void __attribute__((constructor)) net_bpf_init(void)
{
	libbpf_set_print(net_bpf_quiet);
}

/*
 * Open and load NET_BPF_DIR/@name.bpf.o; the fd of its first program, or
 * -errno. The object stays open (the program and its maps with it) in
 * *@obj. @log, if not NULL, receives the verifier's log of a failed load.
 */
static inline int net_bpf_open(const char *name, struct bpf_object **obj,
			       char *log, size_t log_size)
{
	struct bpf_program *prog;
	char path[256];
	int err;

	snprintf(path, sizeof(path), NET_BPF_DIR "/%s.bpf.o", name);
	*obj = bpf_object__open_file(path, NULL);
	err = libbpf_get_error(*obj);
	if (err) {
		*obj = NULL;
		return err;
	}
	prog = bpf_object__next_program(*obj, NULL);
	if (!prog) {
		bpf_object__close(*obj);
		*obj = NULL;
		return -ENOENT;
	}
	if (log) {
		log[0] = '\0';
		bpf_program__set_log_buf(prog, log, log_size);
		bpf_program__set_log_level(prog, 1);
	}
	err = bpf_object__load(*obj);
	if (err) {
		bpf_object__close(*obj);
		*obj = NULL;
		return err;
	}
	return bpf_program__fd(prog);
}

/* The handler @name (its fd); fails the test if it does not load. */
static inline int __net_handler_load(struct __test_metadata *_metadata,
				     const char *name,
				     struct bpf_object **obj)
{
	int fd = net_bpf_open(name, obj, NULL, 0);

	ASSERT_LE(0, fd) TH_LOG("loading " NET_BPF_DIR "/%s.bpf.o: %s", name,
				strerror(-fd));
	return fd;
}
#define net_handler_load(name, obj) __net_handler_load(_metadata, name, obj)

#define NET_INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
			    .off = (o), .imm = (i) })
#define NET_MOV_IMM(d, i) \
	NET_INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define NET_EXIT()		NET_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define NET_CB(n)		((int16_t)offsetof(struct __sk_buff, cb[n]))

/* A program of @type that returns @verdict; its fd or -errno. */
static inline int net_prog_verdict(enum bpf_prog_type type, int verdict)
{
	const struct bpf_insn insns[] = {
		NET_MOV_IMM(BPF_REG_0, verdict),
		NET_EXIT(),
	};
	int fd = bpf_prog_load(type, "exo_verdict", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
}

/*
 * A SCHED_CLS handler that delivers with the tag
 * cb[EXO_NET_CB_CLAIM] ^ (cb[EXO_NET_CB_ABI] << 24): what exo tells a
 * handler comes back in the slot.
 */
static inline int net_prog_tag(void)
{
	const struct bpf_insn insns[] = {
		NET_INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
			 NET_CB(EXO_NET_CB_CLAIM), 0),
		NET_INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1,
			 NET_CB(EXO_NET_CB_ABI), 0),
		NET_INSN(BPF_ALU64 | BPF_LSH | BPF_K, BPF_REG_3, 0, 0, 24),
		NET_INSN(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_2, BPF_REG_3, 0,
			 0),
		NET_INSN(BPF_STX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_2,
			 NET_CB(EXO_NET_CB_TAG), 0),
		NET_MOV_IMM(BPF_REG_0, EXO_NET_DELIVER),
		NET_EXIT(),
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "exo_tag", "GPL",
			       insns, sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
}

#endif /* EXO_NET_BPF_H */
