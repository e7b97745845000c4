// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * RPC stubs over protected calls (call.c), with a per-client buffer in the
 * server's frames (shm.c) for what does not fit in the message words.
 *
 * Wire format (Documentation/ipc.rst), six words each way:
 *   call  w[0] = proc | len << 32 | room << 56 | BUF;  w[1..5] the
 *               arguments (len <= 40 bytes, room <= 40: the client's room
 *               for results) unless BUF: then the arguments are in the
 *               client's buffer and w[1] is the room
 *   reply w[0] = status | len << 32 | BUF;  w[1..5] or the buffer: results
 * status is the procedure's: 0 or a positive errno value. Procedure 0
 * binds (w[1] frames wanted; the reply's w[1] the granted capability,
 * w[2] the frames), LX_RPC_UNBIND gives the buffer back. The transport's
 * own errors are exo_call()'s, negative. Neither side believes a length
 * the other sent beyond what it can check: the server the buffer it owns,
 * the client the room it offered.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "ipc_internal.h"

#define LX_RPC_BIND	0u
#define LX_RPC_UNBIND	0xfffffffeu
#define LX_RPC_BUF	(1ull << 63)
#define LX_RPC_LEN(w)	((uint32_t)((w) >> 32) & 0xffffffu)
/* A call in words: the room for results, bits 56..62 (at most 40). */
#define LX_RPC_ROOM(w)	((uint32_t)((w) >> 56) & 0x7fu)
#define LX_RPC_STATUS_MAX 4095

struct rpc_proc {
	uint32_t num;
	exo_rpc_fn fn;
	void *arg;
};

struct rpc_client_buf {
	uint32_t ctx;
	struct exo_shm *shm;
	unsigned int busy;	/* procedures running on it */
	bool dead;		/* unbound while busy: the last one frees it */
};

struct exo_rpc_server {
	struct exo *exo;
	uint32_t entry;
	pthread_mutex_t lock;
	struct rpc_proc procs[EXO_RPC_MAX_PROCS];
	unsigned int nprocs;
	struct rpc_client_buf clients[EXO_RPC_MAX_CLIENTS];
	_Atomic int serving;
};

struct exo_rpc_client {
	struct exo *exo;
	uint64_t cap;
	struct exo_shm *shm;	/* NULL: words only */
	pthread_mutex_t lock;	/* one call at a time in the buffer */
};

int exo_rpc_server_create(struct exo *exo, struct exo_rpc_server **out)
{
	struct exo_rpc_server *srv;
	int ret;

	if (!exo || !out)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	ret = exo_entry_register(exo, &srv->entry);
	if (ret) {
		free(srv);
		return ret;
	}
	srv->exo = exo;
	pthread_mutex_init(&srv->lock, NULL);
	*out = srv;
	return 0;
}

int exo_rpc_server_destroy(struct exo_rpc_server *srv)
{
	struct timespec ms = { 0, 1000000 };
	unsigned int i;
	int ret;

	if (!srv)
		return -EINVAL;
	/* Fails waiting calls and sends every serving thread home. */
	ret = exo_entry_unregister(srv->exo, srv->entry);
	while (atomic_load(&srv->serving))
		nanosleep(&ms, NULL);
	for (i = 0; i < EXO_RPC_MAX_CLIENTS; i++)
		if (srv->clients[i].shm)
			exo_shm_destroy(srv->clients[i].shm);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return ret;
}

int exo_rpc_register(struct exo_rpc_server *srv, uint32_t proc,
		     exo_rpc_fn fn, void *arg)
{
	unsigned int i;
	int ret = 0;

	if (!srv || !fn || !proc || proc > EXO_RPC_PROC_MAX)
		return -EINVAL;
	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < srv->nprocs; i++)
		if (srv->procs[i].num == proc)
			break;
	if (i < srv->nprocs)
		ret = -EEXIST;
	else if (srv->nprocs == EXO_RPC_MAX_PROCS)
		ret = -ENOSPC;
	else
		srv->procs[srv->nprocs++] = (struct rpc_proc){ proc, fn, arg };
	pthread_mutex_unlock(&srv->lock);
	return ret;
}

int exo_rpc_grant(struct exo_rpc_server *srv, uint32_t ctx_id, uint64_t *cap)
{
	if (!srv || !cap)
		return -EINVAL;
	return exo_call_grant(srv->exo, srv->entry, ctx_id, cap);
}

int exo_rpc_revoke(struct exo_rpc_server *srv, uint32_t ctx_id, uint64_t cap)
{
	if (!srv)
		return -EINVAL;
	return exo_call_revoke(srv->exo, srv->entry, ctx_id, cap);
}

/* The caller's buffer slot, or a free one if @alloc. srv->lock held. */
static struct rpc_client_buf *rpc_slot(struct exo_rpc_server *srv,
				       uint32_t ctx, bool alloc)
{
	struct rpc_client_buf *free_slot = NULL;
	unsigned int i;

	for (i = 0; i < EXO_RPC_MAX_CLIENTS; i++) {
		if (srv->clients[i].shm && !srv->clients[i].dead &&
		    srv->clients[i].ctx == ctx)
			return &srv->clients[i];
		if (!srv->clients[i].shm && !free_slot)
			free_slot = &srv->clients[i];
	}
	return alloc ? free_slot : NULL;
}

/*
 * Let a client's buffer go: now, or when the last procedure running on it
 * returns (another thread of the client may unbind during a call; the
 * server must not lose the memory under its procedure). srv->lock held.
 */
static void rpc_slot_drop(struct rpc_client_buf *c)
{
	if (c->busy) {
		c->dead = true;
		return;
	}
	exo_shm_destroy(c->shm);
	c->shm = NULL;
	c->dead = false;
}

/* Procedure 0: a buffer of w[1] frames for the caller, granted to it. */
static uint32_t rpc_bind(struct exo_rpc_server *srv, struct exo_msg *m)
{
	uint64_t frames = m->w[1];
	struct rpc_client_buf *c;
	struct exo_shm *shm;
	exo_cap_t cap;
	int ret;

	if (!frames || frames > EXO_RPC_FRAMES_MAX || (frames & (frames - 1)))
		return EINVAL;
	pthread_mutex_lock(&srv->lock);
	c = rpc_slot(srv, m->caller, false);
	if (c)
		rpc_slot_drop(c);
	c = rpc_slot(srv, m->caller, true);
	if (!c) {
		ret = -ENOSPC;
		goto unlock;
	}
	ret = exo_shm_create(srv->exo, (uint32_t)frames, &shm);
	if (ret)
		goto unlock;
	ret = exo_shm_grant(shm, m->caller, &cap);
	if (ret) {
		exo_shm_destroy(shm);
		goto unlock;
	}
	c->ctx = m->caller;
	c->shm = shm;
	m->w[1] = cap;
	m->w[2] = frames;
unlock:
	pthread_mutex_unlock(&srv->lock);
	return (uint32_t)-ret;
}

static void rpc_unbind(struct exo_rpc_server *srv, uint32_t caller)
{
	struct rpc_client_buf *c;

	pthread_mutex_lock(&srv->lock);
	c = rpc_slot(srv, caller, false);
	if (c)
		rpc_slot_drop(c);
	pthread_mutex_unlock(&srv->lock);
}

static uint64_t rpc_run(const struct rpc_proc *pp, struct exo_rpc_req *reqp,
			struct exo_msg *m, struct rpc_client_buf *c);

/* Run the procedure; return the reply's w[0] (a bare status if it did not). */
static uint64_t rpc_dispatch(struct exo_rpc_server *srv, struct exo_msg *m)
{
	struct exo_rpc_req req = { .proc = (uint32_t)m->w[0],
				   .caller = m->caller };
	bool buf = m->w[0] & LX_RPC_BUF;
	struct rpc_client_buf *c = NULL;
	struct rpc_proc p = { 0 };
	unsigned int i;
	uint64_t ret;

	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < srv->nprocs; i++)
		if (srv->procs[i].num == req.proc)
			p = srv->procs[i];
	if (buf && p.fn) {
		c = rpc_slot(srv, m->caller, false);
		if (c)
			c->busy++;
	}
	pthread_mutex_unlock(&srv->lock);
	if (!p.fn)
		return ENOSYS;
	if (buf && !c)
		return ENOBUFS;
	ret = rpc_run(&p, &req, m, c);
	if (c) {
		pthread_mutex_lock(&srv->lock);
		if (!--c->busy && c->dead)
			rpc_slot_drop(c);
		pthread_mutex_unlock(&srv->lock);
	}
	return ret;
}

/* Run the procedure on the words or on @c's buffer (busy: it stays). */
static uint64_t rpc_run(const struct rpc_proc *pp, struct exo_rpc_req *reqp,
			struct exo_msg *m, struct rpc_client_buf *c)
{
	struct exo_rpc_req req = *reqp;
	struct rpc_proc p = *pp;
	uint64_t in[EXO_CALL_WORDS - 1], out[EXO_CALL_WORDS - 1] = { 0 };
	uint32_t len = LX_RPC_LEN(m->w[0]);
	bool buf = c != NULL;
	int status;

	if (buf) {
		/* The buffer is ours; the length is the caller's claim. */
		if (len > exo_shm_len(c->shm))
			return EMSGSIZE;
		req.in = exo_shm_addr(c->shm);
		req.out = exo_shm_addr(c->shm);
		req.out_max = exo_shm_len(c->shm);
		if (m->w[1] < req.out_max)
			req.out_max = m->w[1];
	} else {
		if (len > EXO_RPC_WORDS_MAX)
			return EMSGSIZE;
		memcpy(in, &m->w[1], sizeof(in));
		req.in = in;
		req.out = out;
		req.out_max = LX_RPC_ROOM(m->w[0]);
		if (req.out_max > EXO_RPC_WORDS_MAX)
			return EMSGSIZE;
	}
	req.in_len = len;
	status = p.fn(p.arg, &req);
	if (status < 0)
		status = -status;
	if (status > LX_RPC_STATUS_MAX)
		status = EPROTO;
	/* An error carries no results. */
	if (status)
		return (uint32_t)status;
	if (req.out_len > req.out_max)
		return EOVERFLOW;
	if (!buf)
		memcpy(&m->w[1], out, sizeof(out));
	return (uint32_t)status | (uint64_t)req.out_len << 32 |
	       (buf ? LX_RPC_BUF : 0);
}

static void rpc_entry(void *arg, struct exo_msg *m)
{
	struct exo_rpc_server *srv = arg;
	uint32_t proc = (uint32_t)m->w[0];

	if (m->flags & EXO_MSG_SEND)
		return;		/* nobody to answer: RPCs are calls */
	if (proc == LX_RPC_BIND) {
		m->w[0] = rpc_bind(srv, m);
		return;
	}
	if (proc == LX_RPC_UNBIND) {
		rpc_unbind(srv, m->caller);
		m->w[0] = 0;
		return;
	}
	m->w[0] = rpc_dispatch(srv, m);
}

int exo_rpc_serve(struct exo_rpc_server *srv)
{
	int ret;

	if (!srv)
		return -EINVAL;
	atomic_fetch_add(&srv->serving, 1);
	ret = exo_serve(srv->exo, srv->entry, rpc_entry, srv);
	atomic_fetch_sub(&srv->serving, 1);
	return ret;
}

int exo_rpc_bind(struct exo *exo, uint64_t cap, uint32_t buf_frames,
		 struct exo_rpc_client **out)
{
	uint64_t w[EXO_CALL_WORDS] = { LX_RPC_BIND, buf_frames };
	struct exo_rpc_client *cl;
	int ret;

	if (!exo || !out || buf_frames > EXO_RPC_FRAMES_MAX ||
	    (buf_frames & (buf_frames - 1)))
		return -EINVAL;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->exo = exo;
	cl->cap = cap;
	pthread_mutex_init(&cl->lock, NULL);
	if (buf_frames) {
		ret = exo_call(exo, cap, w);
		if (ret)
			goto free;
		if ((uint32_t)w[0]) {
			ret = (uint32_t)w[0] <= LX_RPC_STATUS_MAX ?
			      -(int)(uint32_t)w[0] : -EPROTO;
			goto free;
		}
		if (w[2] != buf_frames) {
			ret = -EPROTO;
			goto free;
		}
		ret = exo_shm_attach(exo, w[1], buf_frames, &cl->shm);
		if (ret)
			goto free;
	}
	*out = cl;
	return 0;
free:
	pthread_mutex_destroy(&cl->lock);
	free(cl);
	return ret;
}

int exo_rpc_call(struct exo_rpc_client *cl, uint32_t proc, const void *in,
		 size_t in_len, void *out, size_t out_max, size_t *out_len)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	bool buf = in_len > EXO_RPC_WORDS_MAX || out_max > EXO_RPC_WORDS_MAX;
	uint32_t status, len;
	int ret;

	if (!cl || !proc || proc > EXO_RPC_PROC_MAX || (in_len && !in) ||
	    (out_max && !out))
		return -EINVAL;
	if (buf && (!cl->shm || in_len > exo_shm_len(cl->shm)))
		return -EMSGSIZE;
	if (buf) {
		pthread_mutex_lock(&cl->lock);
		/* The server's frames: gone if it is. */
		if (exo_shm_valid(cl->shm) != 1) {
			ret = -ECONNRESET;
			goto unlock;
		}
		memcpy(exo_shm_addr(cl->shm), in, in_len);
	} else {
		memcpy(&w[1], in, in_len);
	}
	if (buf)
		w[1] = out_max;
	w[0] = proc | (uint64_t)in_len << 32 |
	       (buf ? LX_RPC_BUF : (uint64_t)out_max << 56);
	ret = exo_call(cl->exo, cl->cap, w);
	if (ret)
		goto unlock;
	status = (uint32_t)w[0];
	len = LX_RPC_LEN(w[0]);
	if (status > LX_RPC_STATUS_MAX) {
		ret = -EPROTO;
		goto unlock;
	}
	/* A procedure's error carries no results. */
	if (status) {
		if (out_len)
			*out_len = 0;
		ret = (int)status;
		goto unlock;
	}
	if (len > out_max || !(w[0] & LX_RPC_BUF) != !buf) {
		ret = -EPROTO;
		goto unlock;
	}
	if (buf) {
		if (exo_shm_valid(cl->shm) != 1) {
			ret = -ECONNRESET;
			goto unlock;
		}
		memcpy(out, exo_shm_addr(cl->shm), len);
	} else {
		memcpy(out, &w[1], len);
	}
	if (out_len)
		*out_len = len;
	ret = (int)status;
unlock:
	if (buf)
		pthread_mutex_unlock(&cl->lock);
	return ret;
}

int exo_rpc_unbind(struct exo_rpc_client *cl)
{
	uint64_t w[EXO_CALL_WORDS] = { LX_RPC_UNBIND };
	int ret = 0;

	if (!cl)
		return -EINVAL;
	if (cl->shm) {
		ret = exo_shm_detach(cl->shm);
		/* The server frees the buffer; a server gone has already. */
		exo_call(cl->exo, cl->cap, w);
	}
	pthread_mutex_destroy(&cl->lock);
	free(cl);
	return ret;
}
