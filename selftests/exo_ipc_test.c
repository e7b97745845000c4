// SPDX-License-Identifier: GPL-2.0
/*
 * libexo's IPC (Documentation/ipc.rst): shared memory's errors; pipes
 * byte-exact over 1 MiB between two processes with their own contexts, in
 * 64-byte and 4 KiB writes, end of file, EPIPE, non-blocking and partial
 * transfers, a writer or a reader killed mid-transfer, a peer scribbling
 * on the ring's indices; RPC with small and large arguments, a
 * procedure's own error apart from the transport's, a capability revoked
 * mid-stream, a server killed mid-call. Every test ends with the module's
 * counters back at their baseline.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include <libexo.h>

#include "exo_util.h"

#define MIB		(1024 * 1024)

static uint32_t ctx_id(struct exo *exo)
{
	return exo_api(exo)->ctx_id;
}

/* The byte at stream offset @i of a test stream: not periodic in 4 KiB. */
static unsigned char pattern(uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ull;

	return (unsigned char)(x >> 56 ^ i >> 12);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A child with its own context; @sv[1] is its end of the bootstrap. */
static pid_t spawn(int sv[2], int (*fn)(struct exo *exo, int fd, long arg),
		   long arg)
{
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	pid = fork();
	if (!pid) {
		struct exo *exo;
		uint32_t id;

		close(sv[0]);
		if (exo_open(&exo))
			_exit(100);
		id = ctx_id(exo);
		if (write(sv[1], &id, 4) != 4)
			_exit(101);
		_exit(fn(exo, sv[1], arg));
	}
	close(sv[1]);
	return pid;
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- shared memory ---- */

TEST(shm_errors)
{
	struct exo_counters base;
	struct exo_shm *a, *b, *c;
	struct exo *x, *y;
	exo_cap_t cap;

	exo_counters_read(&base);
	ASSERT_EQ(0, exo_open(&x));
	ASSERT_EQ(0, exo_open(&y));
	EXPECT_EQ(-EINVAL, exo_shm_create(x, 0, &a));
	EXPECT_EQ(-EINVAL, exo_shm_create(x, 3, &a));
	EXPECT_EQ(-EINVAL, exo_shm_create(x, 1u << 30, &a));
	EXPECT_EQ(-EINVAL, exo_shm_create(NULL, 1, &a));
	EXPECT_EQ(-EINVAL, exo_shm_create(x, 1, NULL));
	ASSERT_EQ(0, exo_shm_create(x, 4, &a));
	EXPECT_EQ(4 * exo_api(x)->page_size, exo_shm_len(a));
	EXPECT_EQ(1, exo_shm_valid(a));
	EXPECT_EQ(-EINVAL, exo_shm_grant(a, ctx_id(x), &cap));
	EXPECT_EQ(-ESRCH, exo_shm_grant(a, 0x7fffffff, &cap));
	EXPECT_EQ(-EINVAL, exo_shm_grant(a, ctx_id(y), NULL));
	ASSERT_EQ(0, exo_shm_grant(a, ctx_id(y), &cap));
	/* Only the granted capability, only at its size. */
	EXPECT_EQ(-ENOENT, exo_shm_attach(y, cap + 1, 4, &b));
	EXPECT_EQ(-ENOENT, exo_shm_attach(y, 0, 4, &b));
	EXPECT_EQ(-EMSGSIZE, exo_shm_attach(y, cap, 2, &b));
	EXPECT_EQ(-EINVAL, exo_shm_attach(y, cap, 5, &b));
	ASSERT_EQ(0, exo_shm_attach(y, cap, 4, &b));
	/* A grantee cannot grant on: its capability is not its own. */
	EXPECT_EQ(-EINVAL, exo_shm_grant(b, ctx_id(x), &cap));
	/* The same bytes on both sides. */
	memset(exo_shm_addr(a), 0x5a, exo_shm_len(a));
	((char *)exo_shm_addr(b))[100] = 7;
	EXPECT_EQ(0x5a, ((char *)exo_shm_addr(b))[4 * 4096 - 1]);
	EXPECT_EQ(7, ((char *)exo_shm_addr(a))[100]);
	/* Owner's and grantee's calls are not each other's. */
	EXPECT_EQ(-EINVAL, exo_shm_detach(a));
	EXPECT_EQ(-EINVAL, exo_shm_destroy(b));
	EXPECT_EQ(-EINVAL, exo_shm_detach(NULL));
	EXPECT_EQ(-EINVAL, exo_shm_valid(NULL));
	/* An owned capability is not attached as a grant. */
	ASSERT_EQ(0, exo_shm_create(x, 1, &c));
	ASSERT_EQ(0, exo_shm_destroy(c));
	/* The owner frees: the grantee's region is no longer valid. */
	ASSERT_EQ(0, exo_shm_destroy(a));
	EXPECT_EQ(0, exo_shm_valid(b));
	EXPECT_EQ(0, exo_shm_detach(b));
	exo_close(y);
	exo_close(x);
	exo_counters_expect_baseline(&base);
}

/* ---- pipes ---- */

/* The writer child: attach, write @total bytes in @chunk writes, close. */
static int pipe_writer(struct exo *exo, int fd, long chunk)
{
	static unsigned char buf[65536];
	struct exo_pipe_token tok;
	struct exo_pipe *p;
	uint64_t off = 0, total;
	long n;
	size_t i;

	if (read(fd, &tok, sizeof(tok)) != sizeof(tok) ||
	    read(fd, &total, 8) != 8)
		return 1;
	if (exo_pipe_attach(exo, &tok, &p))
		return 2;
	while (off < total) {
		size_t len = (size_t)chunk;

		if (len > total - off)
			len = total - off;
		for (i = 0; i < len; i++)
			buf[i] = pattern(off + i);
		n = exo_pipe_write(p, buf, len, 0);
		if (n != (long)len)
			return n == -EPIPE ? 4 : 3;
		off += len;
	}
	if (exo_pipe_close(p))
		return 5;
	exo_close(exo);
	return 0;
}

/* Read until end of file with reads of varying size; the stream's hash. */
static long read_all(struct exo_pipe *p, uint64_t *hash, uint64_t *got)
{
	static unsigned char buf[8192];
	size_t sizes[] = { 1, 63, 4096, 8192, 777 };
	unsigned int k = 0;
	long n;

	*hash = 0xcbf29ce484222325ull;
	*got = 0;
	for (;;) {
		n = exo_pipe_read(p, buf, sizes[k++ % 5], 0);
		if (n <= 0)
			return n;
		*hash = fnv(*hash, buf, n);
		*got += n;
	}
}

static void pipe_exact(struct __test_metadata *_metadata, long chunk)
{
	struct exo_counters base;
	struct exo_pipe_token tok;
	uint64_t total = MIB, hash, want = 0xcbf29ce484222325ull, got, i;
	struct exo_pipe *p;
	struct exo *exo;
	uint32_t wid;
	long t0;
	int sv[2];
	pid_t pid;

	for (i = 0; i < total; i++) {
		unsigned char c = pattern(i);

		want = fnv(want, &c, 1);
	}
	exo_counters_read(&base);
	ASSERT_EQ(0, exo_open(&exo));
	pid = spawn(sv, pipe_writer, chunk);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(4, read(sv[0], &wid, 4));
	ASSERT_EQ(0, exo_pipe_create(exo, wid, 0, &p, &tok));
	ASSERT_EQ((ssize_t)sizeof(tok), write(sv[0], &tok, sizeof(tok)));
	ASSERT_EQ(8, write(sv[0], &total, 8));
	t0 = now_ms();
	EXPECT_EQ(0, read_all(p, &hash, &got));
	TH_LOG("1 MiB in %ld-byte writes: %ld ms", chunk, now_ms() - t0);
	EXPECT_EQ(total, got);
	EXPECT_EQ(want, hash);
	/* End of file stays end of file. */
	EXPECT_EQ(0, exo_pipe_read(p, &hash, 1, 0));
	EXPECT_EQ(0, child_status(pid));
	EXPECT_EQ(0, exo_pipe_close(p));
	exo_close(exo);
	close(sv[0]);
	exo_counters_expect_baseline(&base);
}

FIXTURE(pipe) {
	int unused;
};

FIXTURE_SETUP(pipe)
{
}

FIXTURE_TEARDOWN(pipe)
{
}

/* 16384 writes, most of them waking the reader: minutes under TCG. */
TEST_F_TIMEOUT(pipe, exact_1mib_64, 600)
{
	pipe_exact(_metadata, 64);
}

TEST_F_TIMEOUT(pipe, exact_1mib_4k, 300)
{
	pipe_exact(_metadata, 4096);
}

/* Two contexts of one process: the non-blocking and partial cases. */
TEST(pipe_nonblock_partial_eof)
{
	static unsigned char big[65536], out[65536];
	struct exo_counters base;
	struct exo_pipe_token tok, bad;
	struct exo_pipe *r, *w, *w2;
	struct exo *x, *y;
	long size, n;

	exo_counters_read(&base);
	ASSERT_EQ(0, exo_open(&x));
	ASSERT_EQ(0, exo_open(&y));
	EXPECT_EQ(-EINVAL, exo_pipe_create(x, ctx_id(x), 2, &r, &tok));
	EXPECT_EQ(-EINVAL, exo_pipe_create(x, ctx_id(y), 3, &r, &tok));
	EXPECT_EQ(-EINVAL, exo_pipe_create(x, ctx_id(y), 1, &r, &tok));
	EXPECT_EQ(-ESRCH, exo_pipe_create(x, 0x7fffffff, 2, &r, &tok));
	ASSERT_EQ(0, exo_pipe_create(x, ctx_id(y), 4, &r, &tok));
	bad = tok;
	bad.magic++;
	EXPECT_EQ(-EINVAL, exo_pipe_attach(y, &bad, &w));
	bad = tok;
	bad.ring++;
	EXPECT_EQ(-ENOENT, exo_pipe_attach(y, &bad, &w));
	/* The token is the writer's: the reader's context holds no grant. */
	EXPECT_EQ(-ENOENT, exo_pipe_attach(x, &tok, &w));
	ASSERT_EQ(0, exo_pipe_attach(y, &tok, &w));
	/* One writer per pipe. */
	EXPECT_EQ(-EPROTO, exo_pipe_attach(y, &tok, &w2));
	/* Wrong ends. */
	EXPECT_EQ(-EINVAL, exo_pipe_read(w, out, 1, 0));
	EXPECT_EQ(-EINVAL, exo_pipe_write(r, big, 1, 0));
	EXPECT_EQ(-EINVAL, exo_pipe_read(r, out, 1, 0x100));
	EXPECT_EQ(-EINVAL, exo_pipe_read(r, NULL, 1, 0));
	EXPECT_EQ(0, exo_pipe_read(r, out, 0, 0));
	EXPECT_EQ(-EAGAIN, exo_pipe_read(r, out, 1, EXO_PIPE_NONBLOCK));
	/* A ring of 3 data frames: a non-blocking write fills it, partly. */
	size = 3 * exo_api(x)->page_size;
	for (n = 0; n < (long)sizeof(big); n++)
		big[n] = pattern(n);
	EXPECT_EQ(size, exo_pipe_write(w, big, sizeof(big), EXO_PIPE_NONBLOCK));
	EXPECT_EQ(-EAGAIN, exo_pipe_write(w, big, 1, EXO_PIPE_NONBLOCK));
	/* A partial read, then the rest. */
	EXPECT_EQ(100, exo_pipe_read(r, out, 100, 0));
	EXPECT_EQ(size - 100, exo_pipe_read(r, out + 100, sizeof(out), 0));
	EXPECT_EQ(0, memcmp(out, big, size));
	/* Wrapping around the ring's end. */
	EXPECT_EQ(5000, exo_pipe_write(w, big, 5000, 0));
	EXPECT_EQ(5000, exo_pipe_read(r, out, sizeof(out), EXO_PIPE_NONBLOCK));
	EXPECT_EQ(0, memcmp(out, big, 5000));
	/* What was written before the close is read, then end of file. */
	EXPECT_EQ(10, exo_pipe_write(w, big, 10, 0));
	EXPECT_EQ(0, exo_pipe_close(w));
	EXPECT_EQ(10, exo_pipe_read(r, out, sizeof(out), 0));
	EXPECT_EQ(0, exo_pipe_read(r, out, sizeof(out), 0));
	EXPECT_EQ(0, exo_pipe_read(r, out, 1, EXO_PIPE_NONBLOCK));
	EXPECT_EQ(0, exo_pipe_close(r));
	EXPECT_EQ(-EINVAL, exo_pipe_close(NULL));
	exo_close(y);
	exo_close(x);
	exo_counters_expect_baseline(&base);
}

/*
 * A hostile peer scribbles on the ring's header (tail at byte 64, head at
 * 128: libexo/src/pipe.c): the other side fails with EPROTO and reads or
 * writes nothing outside the ring.
 */
TEST(pipe_hostile_indices)
{
	struct exo_counters base;
	struct exo_pipe_token tok;
	struct exo_pipe *r, *w;
	struct exo_shm *raw;
	struct exo *x, *y;
	volatile uint64_t *hdr;
	char out[64];
	uint64_t keep;

	exo_counters_read(&base);
	ASSERT_EQ(0, exo_open(&x));
	ASSERT_EQ(0, exo_open(&y));
	ASSERT_EQ(0, exo_pipe_create(x, ctx_id(y), 4, &r, &tok));
	ASSERT_EQ(0, exo_pipe_attach(y, &tok, &w));
	/* The writer's context maps the ring a second time, to scribble. */
	ASSERT_EQ(0, exo_shm_attach(y, tok.ring, tok.nframes, &raw));
	hdr = exo_shm_addr(raw);
	EXPECT_EQ(10, exo_pipe_write(w, "0123456789", 10, 0));
	keep = hdr[8];
	EXPECT_EQ(10u, keep);
	hdr[8] = keep + (1ull << 40);
	EXPECT_EQ(-EPROTO, exo_pipe_read(r, out, sizeof(out), 0));
	hdr[8] = keep - 20;	/* behind the reader: as bad */
	EXPECT_EQ(-EPROTO, exo_pipe_read(r, out, sizeof(out), 0));
	hdr[8] = keep;
	EXPECT_EQ(10, exo_pipe_read(r, out, sizeof(out), 0));
	/* And the reader's head, against the writer. */
	keep = hdr[16];
	hdr[16] = keep + 4096;
	EXPECT_EQ(-EPROTO, exo_pipe_write(w, "x", 1, 0));
	hdr[16] = keep;
	EXPECT_EQ(1, exo_pipe_write(w, "x", 1, 0));
	EXPECT_EQ(0, exo_shm_detach(raw));
	EXPECT_EQ(0, exo_pipe_close(w));
	EXPECT_EQ(0, exo_pipe_close(r));
	exo_close(y);
	exo_close(x);
	exo_counters_expect_baseline(&base);
}

/* The reader child: read @arg bytes, then close (or hang, to be killed). */
static int pipe_reader(struct exo *exo, int fd, long arg)
{
	static unsigned char buf[4096];
	struct exo_pipe_token tok;
	struct exo_pipe *p;
	uint32_t wid;
	long got = 0, n;

	if (read(fd, &wid, 4) != 4 ||
	    exo_pipe_create(exo, wid, 4, &p, &tok) ||
	    write(fd, &tok, sizeof(tok)) != sizeof(tok))
		return 1;
	while (got < (arg < 0 ? -arg : arg)) {
		n = exo_pipe_read(p, buf, sizeof(buf), 0);
		if (n <= 0)
			return 2;
		got += n;
	}
	if (write(fd, &got, 8) != 8)
		return 3;
	if (arg < 0)
		pause();	/* killed here */
	exo_pipe_close(p);
	return 0;
}

static void pipe_write_to_reader(struct __test_metadata *_metadata,
				 long arg)
{
	static unsigned char buf[4096];
	struct exo_counters base;
	struct exo_pipe_token tok;
	struct exo_pipe *p;
	struct exo *exo;
	long n, got, t0;
	uint32_t id, rid;
	int sv[2];
	pid_t pid;

	exo_counters_read(&base);
	ASSERT_EQ(0, exo_open(&exo));
	pid = spawn(sv, pipe_reader, arg);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(4, read(sv[0], &rid, 4));
	id = ctx_id(exo);
	ASSERT_EQ(4, write(sv[0], &id, 4));
	ASSERT_EQ((ssize_t)sizeof(tok), read(sv[0], &tok, sizeof(tok)));
	ASSERT_EQ(0, exo_pipe_attach(exo, &tok, &p));
	/*
	 * Once the reader has taken what it wanted it stops reading, its
	 * ring fills, and we wait for room: then kill it.
	 */
	if (arg < 0 && fork() == 0) {
		if (read(sv[0], &got, 8) == 8)
			usleep(200000);
		kill(pid, SIGKILL);
		_exit(0);
	}
	/* Write until the reader has gone. */
	t0 = now_ms();
	do {
		n = exo_pipe_write(p, buf, sizeof(buf), 0);
	} while (n == sizeof(buf) && now_ms() - t0 < 60000);
	EXPECT_EQ(-EPIPE, n);
	EXPECT_EQ(-EPIPE, exo_pipe_write(p, buf, 1, 0));
	EXPECT_EQ(-EPIPE, exo_pipe_write(p, buf, 1, EXO_PIPE_NONBLOCK));
	EXPECT_LT(now_ms() - t0, 30000);
	if (arg < 0) {
		EXPECT_EQ(128 + SIGKILL, child_status(pid));
	} else {
		EXPECT_EQ(0, child_status(pid));
	}
	while (wait(NULL) > 0)
		;
	EXPECT_EQ(0, exo_pipe_close(p));
	exo_close(exo);
	close(sv[0]);
	exo_counters_expect_baseline(&base);
}

/* The reader closes after 64 KiB: the writer gets EPIPE. */
TEST(pipe_epipe)
{
	pipe_write_to_reader(_metadata, 65536);
}

/* The reader is killed (-9) while the writer waits for room: EPIPE. */
TEST(pipe_reader_killed)
{
	pipe_write_to_reader(_metadata, -65536);
}

/* A writer that never stops. */
static int pipe_forever(struct exo *exo, int fd, long arg)
{
	static unsigned char buf[4096];
	struct exo_pipe_token tok;
	struct exo_pipe *p;

	(void)arg;
	if (read(fd, &tok, sizeof(tok)) != sizeof(tok) ||
	    exo_pipe_attach(exo, &tok, &p))
		return 1;
	for (;;)
		if (exo_pipe_write(p, buf, sizeof(buf), 0) < 0)
			return 2;
}

/* The writer is killed mid-transfer: the reader drains, then ECONNRESET. */
TEST(pipe_writer_killed)
{
	static unsigned char buf[4096];
	struct exo_counters base;
	struct exo_pipe_token tok;
	struct exo_pipe *p;
	struct exo *exo;
	long n, got = 0, t0;
	uint32_t wid;
	int sv[2];
	pid_t pid;

	exo_counters_read(&base);
	ASSERT_EQ(0, exo_open(&exo));
	pid = spawn(sv, pipe_forever, 0);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(4, read(sv[0], &wid, 4));
	ASSERT_EQ(0, exo_pipe_create(exo, wid, 0, &p, &tok));
	ASSERT_EQ((ssize_t)sizeof(tok), write(sv[0], &tok, sizeof(tok)));
	while (got < MIB) {
		n = exo_pipe_read(p, buf, sizeof(buf), 0);
		ASSERT_GT(n, 0);
		got += n;
	}
	kill(pid, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, child_status(pid));
	t0 = now_ms();
	while ((n = exo_pipe_read(p, buf, sizeof(buf), 0)) > 0)
		;
	EXPECT_EQ(-ECONNRESET, n);
	EXPECT_LT(now_ms() - t0, 10000);
	EXPECT_EQ(-ECONNRESET, exo_pipe_read(p, buf, 1, 0));
	EXPECT_EQ(0, exo_pipe_close(p));
	exo_close(exo);
	close(sv[0]);
	exo_counters_expect_baseline(&base);
}

/* ---- RPC ---- */

enum { P_SUM = 1, P_ECHO_HASH, P_FAIL, P_REVOKE, P_BLOCK };

static struct exo_rpc_server *the_srv;
static uint64_t the_cap;

/* Words in: their sum out, and the caller's id. */
static int p_sum(void *arg, struct exo_rpc_req *req)
{
	uint64_t in[5] = { 0 }, out[2] = { 0 };
	size_t i;

	(void)arg;
	memcpy(in, req->in, req->in_len);
	for (i = 0; i < 5; i++)
		out[0] += in[i];
	out[1] = req->caller;
	memcpy(req->out, out, sizeof(out));
	req->out_len = sizeof(out);
	return 0;
}

/* Bytes in: the same bytes reversed out, and the in hash last. */
static int p_echo_hash(void *arg, struct exo_rpc_req *req)
{
	static unsigned char tmp[65536];
	uint64_t h = fnv(0xcbf29ce484222325ull, req->in, req->in_len);
	size_t i, n = req->in_len;

	(void)arg;
	if (n + 8 > req->out_max || n > sizeof(tmp))
		return EMSGSIZE;
	for (i = 0; i < n; i++)
		tmp[i] = ((const unsigned char *)req->in)[n - 1 - i];
	memcpy(req->out, tmp, n);
	memcpy((char *)req->out + n, &h, 8);
	req->out_len = n + 8;
	return 0;
}

static int p_fail(void *arg, struct exo_rpc_req *req)
{
	(void)arg;
	req->out_len = 8;	/* ignored: an error carries no results */
	return EDOM;
}

static int p_revoke(void *arg, struct exo_rpc_req *req)
{
	(void)arg;
	return -exo_rpc_revoke(the_srv, req->caller, the_cap);
}

static int p_block(void *arg, struct exo_rpc_req *req)
{
	(void)arg, (void)req;
	pause();
	return 0;
}

static int rpc_server(struct exo *exo, int fd, long arg)
{
	uint32_t cid;

	(void)arg;
	if (exo_rpc_server_create(exo, &the_srv) ||
	    exo_rpc_register(the_srv, P_SUM, p_sum, NULL) ||
	    exo_rpc_register(the_srv, P_ECHO_HASH, p_echo_hash, NULL) ||
	    exo_rpc_register(the_srv, P_FAIL, p_fail, NULL) ||
	    exo_rpc_register(the_srv, P_REVOKE, p_revoke, NULL) ||
	    exo_rpc_register(the_srv, P_BLOCK, p_block, NULL))
		return 1;
	if (exo_rpc_register(the_srv, P_SUM, p_sum, NULL) != -EEXIST ||
	    exo_rpc_register(the_srv, 0, p_sum, NULL) != -EINVAL)
		return 2;
	if (read(fd, &cid, 4) != 4 ||
	    exo_rpc_grant(the_srv, cid, &the_cap) ||
	    write(fd, &the_cap, 8) != 8)
		return 3;
	exo_rpc_serve(the_srv);
	return 4;
}

FIXTURE(rpc) {
	struct exo_counters base;
	struct exo *exo;
	struct exo_rpc_client *cl;
	uint64_t cap;
	int sv[2];
	pid_t pid;
};

FIXTURE_SETUP(rpc)
{
	uint32_t sid, id;

	exo_counters_read(&self->base);
	ASSERT_EQ(0, exo_open(&self->exo));
	self->pid = spawn(self->sv, rpc_server, 0);
	ASSERT_GT(self->pid, 0);
	ASSERT_EQ(4, read(self->sv[0], &sid, 4));
	id = ctx_id(self->exo);
	ASSERT_EQ(4, write(self->sv[0], &id, 4));
	ASSERT_EQ(8, read(self->sv[0], &self->cap, 8));
	ASSERT_EQ(-EINVAL, exo_rpc_bind(self->exo, self->cap, 3, &self->cl));
	ASSERT_EQ(0, exo_rpc_bind(self->exo, self->cap, 16, &self->cl));
}

FIXTURE_TEARDOWN(rpc)
{
	if (self->cl)
		exo_rpc_unbind(self->cl);
	kill(self->pid, SIGKILL);
	waitpid(self->pid, NULL, 0);
	exo_close(self->exo);
	close(self->sv[0]);
	exo_counters_expect_baseline(&self->base);
}

/* Arguments and results in the words; the caller's id is the kernel's. */
TEST_F(rpc, small_args)
{
	uint64_t in[5], out[2];
	size_t len;
	int i;

	for (i = 0; i < 1000; i++) {
		in[0] = i;
		in[1] = 1ull << 40;
		in[2] = in[3] = in[4] = 3;
		ASSERT_EQ(0, exo_rpc_call(self->cl, P_SUM, in, sizeof(in),
					  out, sizeof(out), &len));
		ASSERT_EQ(16u, len);
		ASSERT_EQ((uint64_t)i + (1ull << 40) + 9, out[0]);
		ASSERT_EQ(ctx_id(self->exo), out[1]);
	}
	/* Too small a room for the results: the server says so. */
	EXPECT_EQ(EOVERFLOW, exo_rpc_call(self->cl, P_SUM, in, 8, out, 8,
					  &len));
	EXPECT_EQ(-EINVAL, exo_rpc_call(self->cl, 0, in, 8, out, 8, &len));
	EXPECT_EQ(-EINVAL, exo_rpc_call(self->cl, P_SUM, NULL, 8, out, 8,
					&len));
	EXPECT_EQ(-EINVAL, exo_rpc_call(NULL, P_SUM, in, 8, out, 8, &len));
}

/* 1 MiB each way through the shared buffer, byte-exact. */
TEST_F(rpc, large_args_1mib)
{
	static unsigned char in[65536], out[65536 + 8];
	uint64_t h, sent = 0;
	size_t len, i, n;

	for (n = 4096; sent < MIB; sent += n) {
		for (i = 0; i < n; i++)
			in[i] = pattern(sent + i);
		ASSERT_EQ(0, exo_rpc_call(self->cl, P_ECHO_HASH, in, n, out,
					  sizeof(out), &len));
		ASSERT_EQ(n + 8, len);
		for (i = 0; i < n; i++)
			ASSERT_EQ(in[n - 1 - i], out[i]);
		memcpy(&h, out + n, 8);
		ASSERT_EQ(fnv(0xcbf29ce484222325ull, in, n), h);
	}
	/* 64 KiB: the whole buffer is the limit. */
	EXPECT_EQ(-EMSGSIZE, exo_rpc_call(self->cl, P_ECHO_HASH, in,
					  16 * 4096 + 1, out, sizeof(out),
					  &len));
	EXPECT_EQ(EMSGSIZE, exo_rpc_call(self->cl, P_ECHO_HASH, in,
					 16 * 4096, out, sizeof(out), &len));
}

/* The procedure's own error is positive; the transport's negative. */
TEST_F(rpc, server_error_apart)
{
	uint64_t w = 1, o[2];
	size_t len = 99;

	EXPECT_EQ(EDOM, exo_rpc_call(self->cl, P_FAIL, &w, 8, &w, 8, &len));
	EXPECT_EQ(0u, len);
	EXPECT_EQ(ENOSYS, exo_rpc_call(self->cl, 77, &w, 8, &w, 8, &len));
	EXPECT_EQ(0, exo_rpc_call(self->cl, P_SUM, &w, 8, o, 16, &len));
	EXPECT_EQ(16u, len);
	EXPECT_EQ(1u, o[0]);
}

/* The server revokes the client's capability mid-stream. */
TEST_F(rpc, revoked_mid_stream)
{
	uint64_t in[5] = { 1 }, out[2];
	int i, ret;

	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, exo_rpc_call(self->cl, P_SUM, in, 40, out, 16,
					  NULL));
	/* Served to its end: the revocation takes the next call. */
	EXPECT_EQ(0, exo_rpc_call(self->cl, P_REVOKE, in, 8, out, 16, NULL));
	ret = exo_rpc_call(self->cl, P_SUM, in, 40, out, 16, NULL);
	EXPECT_EQ(-ENOENT, ret);
	EXPECT_EQ(-ENOENT, exo_rpc_call(self->cl, P_SUM, in, 40, out, 16,
					NULL));
}

/* The server's process is killed inside a call: ECONNRESET, no hang. */
TEST_F(rpc, server_killed_mid_call)
{
	uint64_t w = 0;
	long t0;
	pid_t k;

	k = fork();
	if (!k) {
		usleep(300000);
		kill(self->pid, SIGKILL);
		_exit(0);
	}
	t0 = now_ms();
	EXPECT_EQ(-ECONNRESET, exo_rpc_call(self->cl, P_BLOCK, &w, 8, &w, 8,
					    NULL));
	EXPECT_LT(now_ms() - t0, 10000);
	waitpid(k, NULL, 0);
	EXPECT_EQ(-ENOENT, exo_rpc_call(self->cl, P_SUM, &w, 8, &w, 8, NULL));
	/* Its buffer went with it. */
	EXPECT_EQ(-ECONNRESET, exo_rpc_call(self->cl, P_ECHO_HASH, &w, 8,
					    &w, 4096, NULL));
}

TEST_HARNESS_MAIN
