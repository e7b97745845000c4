// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * libexo: handlers from BPF object files, loaded with libbpf. The kernel's
 * verifier checks the program at load; exo only ever sees its fd
 * (exo_net_claim(), exo_net_set_handler()). Only this file needs libbpf.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "libexo.h"

struct exo_net_prog {
	struct bpf_object *obj;
	struct bpf_program *prog;
};

/*
 * libbpf reports through one process-wide print callback. libexo prints
 * nothing: during a load the callback collects libbpf's own messages for
 * this thread, to be the caller's log when the kernel gave none (the file
 * could not be opened, the object is malformed).
 */
static __thread char *prog_msgs;
static __thread size_t prog_msgs_size, prog_msgs_len;

static int net_prog_print(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	int n;

	if (level == LIBBPF_DEBUG || !prog_msgs ||
	    prog_msgs_len + 1 >= prog_msgs_size)
		return 0;
	n = vsnprintf(prog_msgs + prog_msgs_len,
		      prog_msgs_size - prog_msgs_len, fmt, ap);
	if (n > 0)
		prog_msgs_len += (size_t)n;
	if (prog_msgs_len >= prog_msgs_size)
		prog_msgs_len = prog_msgs_size - 1;
	return 0;
}

/* libbpf's own error numbers (LIBBPF_ERRNO__*) are no errno values. */
static int net_prog_errno(int ret)
{
	if (ret > -__LIBBPF_ERRNO__START)
		return ret;
	switch (-ret) {
	case LIBBPF_ERRNO__VERIFY:
		return -EACCES;
	case LIBBPF_ERRNO__PROG2BIG:
		return -E2BIG;
	default:
		return -EINVAL;		/* a malformed or foreign object */
	}
}

static int net_prog_open(const char *path, const char *prog_name,
			 struct exo_net_prog *p, char *log, size_t log_size)
{
	/*
	 * kernel_log_level 0: libbpf loads without a log and, only if the
	 * verifier refuses, loads again with level 1 into @log. Asking for
	 * the log up front would fail a good program whose log overflows
	 * @log (ENOSPC).
	 */
	LIBBPF_OPTS(bpf_object_open_opts, oo,
		    .kernel_log_buf = log_size ? log : NULL,
		    .kernel_log_size = log_size,
		    .kernel_log_level = 0);
	struct bpf_program *pos;
	int ret;

	p->obj = bpf_object__open_file(path, &oo);
	if (!p->obj)
		return errno ? net_prog_errno(-errno) : -EINVAL;

	if (prog_name)
		p->prog = bpf_object__find_program_by_name(p->obj, prog_name);
	else
		p->prog = bpf_object__next_program(p->obj, NULL);
	if (!p->prog)
		return -ENOENT;

	/* Load only the handler: the object's other programs are not ours. */
	bpf_object__for_each_program(pos, p->obj)
		if (pos != p->prog)
			bpf_program__set_autoload(pos, false);
	if (bpf_program__type(p->prog) == BPF_PROG_TYPE_UNSPEC) {
		ret = bpf_program__set_type(p->prog, BPF_PROG_TYPE_SCHED_CLS);
		if (ret)
			return ret;
	}
	ret = bpf_object__load(p->obj);
	return ret < 0 ? net_prog_errno(ret) : 0;
}

int exo_net_prog_load(const char *path, const char *prog_name,
		      struct exo_net_prog **out, char *log, size_t log_size)
{
	libbpf_print_fn_t old;
	struct exo_net_prog *p;
	char *msgs = NULL;
	int ret;

	if (!path || !out || (log_size && !log))
		return -EINVAL;
	if (log_size) {
		log[0] = '\0';
		msgs = calloc(1, log_size);
		if (!msgs)
			return -ENOMEM;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(msgs);
		return -ENOMEM;
	}

	prog_msgs = msgs;
	prog_msgs_size = log_size;
	prog_msgs_len = 0;
	old = libbpf_set_print(net_prog_print);
	ret = net_prog_open(path, prog_name, p, log, log_size);
	libbpf_set_print(old);
	prog_msgs = NULL;

	if (ret && log_size && !log[0])
		memcpy(log, msgs, log_size);
	free(msgs);
	if (ret) {
		bpf_object__close(p->obj);
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int exo_net_prog_fd(const struct exo_net_prog *prog)
{
	int fd;

	if (!prog)
		return -EINVAL;
	fd = bpf_program__fd(prog->prog);
	return fd < 0 ? -EBADF : fd;
}

int exo_net_prog_map_fd(const struct exo_net_prog *prog, const char *name)
{
	int fd;

	if (!prog || !name)
		return -EINVAL;
	fd = bpf_object__find_map_fd_by_name(prog->obj, name);
	return fd < 0 ? -ENOENT : fd;
}

void exo_net_prog_close(struct exo_net_prog *prog)
{
	if (!prog)
		return;
	bpf_object__close(prog->obj);
	free(prog);
}
