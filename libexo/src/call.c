// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * Protected control transfer: entry points, call capabilities, calls, and
 * the server loop (its register-level half is call_x86_64.S).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One server thread's loop state; call_x86_64.S knows @fd and @reply_arg. */
struct lx_server {
	int fd;
	uint32_t entry;
	uint64_t reply_arg;
	exo_entry_fn fn;
	void *arg;
};

_Static_assert(offsetof(struct lx_server, fd) == 0, "S_FD");
_Static_assert(offsetof(struct lx_server, reply_arg) == 8, "S_ARG");
_Static_assert(offsetof(struct exo_msg, caller) == 48, "the spill");
_Static_assert(offsetof(struct exo_msg, frame) == 56 &&
	       sizeof(struct exo_msg) == 64, "the spill");
_Static_assert(EXO_IOC_REPLY == 0x7841, "call_x86_64.S");
_Static_assert(offsetof(struct exo_msg, flags) == 52 &&
	       EXO_CALL_SEND == EXO_MSG_SEND, "rdx at the entry");

long exo_call_raw(int fd, uint64_t cap, uint64_t *w, unsigned int cmd,
		  uint64_t frame);
long exo_serve_loop(struct lx_server *s);
/* Called from call_x86_64.S only. */
void exo_serve_one(struct lx_server *s, struct exo_msg *m);
long exo_serve_error(struct lx_server *s, long err);

int exo_entry_register(struct exo *exo, uint32_t *id)
{
	struct exo_entry_register r = {
		.size = sizeof(r),
		.pc = (uintptr_t)exo_serve_entry,
	};
	int ret;

	if (!exo || !id)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_ENTRY_REGISTER, &r);
	if (!ret)
		*id = r.id;
	return ret;
}

int exo_entry_unregister(struct exo *exo, uint32_t id)
{
	struct exo_entry_unregister u = { .size = sizeof(u), .id = id };

	if (!exo)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_ENTRY_UNREGISTER, &u);
}

int exo_call_grant(struct exo *exo, uint32_t entry, uint32_t ctx_id,
		   uint64_t *cap)
{
	struct exo_call_grant g = {
		.size = sizeof(g),
		.entry = entry,
		.ctx_id = ctx_id,
	};
	int ret;

	if (!exo || !cap)
		return -EINVAL;
	ret = lx_ioctl(exo, EXO_IOC_CALL_GRANT, &g);
	if (!ret)
		*cap = g.cap;
	return ret;
}

int exo_call_revoke(struct exo *exo, uint32_t entry, uint32_t ctx_id,
		    uint64_t cap)
{
	struct exo_call_revoke r = {
		.size = sizeof(r),
		.entry = entry,
		.ctx_id = ctx_id,
		.cap = cap,
	};

	if (!exo)
		return -EINVAL;
	return lx_ioctl(exo, EXO_IOC_CALL_REVOKE, &r);
}

#ifndef __x86_64__
/* The register convention is x86-64's (call_x86_64.S). */
long exo_call_raw(int fd, uint64_t cap, uint64_t *w, unsigned int cmd,
		  uint64_t frame)
{
	(void)fd, (void)cap, (void)w, (void)cmd, (void)frame;
	return -EOPNOTSUPP;
}

long exo_serve_loop(struct lx_server *s)
{
	(void)s;
	return -EOPNOTSUPP;
}

void exo_serve_entry(void)
{
	abort();
}
#endif

int exo_call(struct exo *exo, uint64_t cap, uint64_t w[EXO_CALL_WORDS])
{
	if (!exo || !w)
		return -EINVAL;
	return exo_call_raw(exo->fd, cap, w, EXO_IOC_CALL, 0);
}

int exo_call_frame(struct exo *exo, uint64_t cap, uint64_t w[EXO_CALL_WORDS],
		   exo_cap_t frame)
{
	if (!exo || !w)
		return -EINVAL;
	return exo_call_raw(exo->fd, cap, w, EXO_IOC_CALL_FRAME, frame);
}

int exo_call_send(struct exo *exo, uint64_t cap,
		  const uint64_t w[EXO_CALL_WORDS])
{
	uint64_t m[EXO_CALL_WORDS];

	if (!exo || !w)
		return -EINVAL;
	memcpy(m, w, sizeof(m));
	return exo_call_raw(exo->fd, cap, m, EXO_IOC_SEND, 0);
}

void exo_serve_one(struct lx_server *s, struct exo_msg *m)
{
	s->fn(s->arg, m);
}

/* A REPLY came back: a caller that left or a signal, serve on. */
long exo_serve_error(struct lx_server *s, long err)
{
	(void)s;
	return err == -EPIPE || err == -EINTR ? 0 : err;
}

int exo_serve(struct exo *exo, uint32_t entry, exo_entry_fn fn, void *arg)
{
	struct lx_server s = {
		.entry = entry,
		.reply_arg = entry | (uint64_t)EXO_REPLY_WAIT << 32,
		.fn = fn,
		.arg = arg,
	};

	if (!exo || !fn)
		return -EINVAL;
	s.fd = exo->fd;
	return exo_serve_loop(&s);
}
