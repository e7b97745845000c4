// SPDX-License-Identifier: GPL-2.0
/*
 * Protected control transfer: entry registration and call capabilities
 * and their errors; calls that carry their six words and the caller's
 * identity exactly; sends, queued in order up to their bound; forged,
 * stale and revoked capabilities refused with nothing run on the server,
 * even a send racing the revoke; frames granted with a call, and taken
 * back when it fails unserved; and every way a call can end early: the
 * entry unregistered, the server's process killed, its thread exiting, the
 * caller interrupted or killed, its capability revoked while it waits.
 * Most tests put the server and the caller in two contexts of this one
 * process; the kill tests fork.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <libexo.h>

#include "exo_util.h"

#define MAX_THREADS	8

enum mode { ECHO, BLOCK, EXIT_THREAD, FRAME };

/* What the server's handler does, and what it saw. */
static struct {
	_Atomic int mode;
	_Atomic int released;
	_Atomic long served;
	_Atomic long blocked;
	_Atomic long sends;
	_Atomic long out_of_order;
	uint64_t next_seq;	/* the sends' w[0], in order */
	struct exo *srv;	/* FRAME: the serving context */
	exo_cap_t frame;	/* the last call's m->frame */
	uint64_t word;		/* FRAME: the granted frame's first word */
} st;

static void handler(void *arg, struct exo_msg *m)
{
	int i;

	(void)arg;
	st.served++;
	st.frame = m->frame;
	if (m->flags & EXO_MSG_SEND) {
		st.sends++;
		if (m->w[0] != st.next_seq++ || m->w[1] != ~m->w[0])
			st.out_of_order++;
	}
	switch (st.mode) {
	case BLOCK:
		st.blocked++;
		while (!st.released)
			usleep(1000);
		break;
	case EXIT_THREAD:
		syscall(SYS_exit, 0);
		break;
	case FRAME: {
		struct exo_shm *shm;
		uint64_t *p;

		/* Read the caller's word, answer in place, drop the grant. */
		if (!m->frame || exo_shm_attach(st.srv, m->frame, 1, &shm))
			break;
		p = exo_shm_addr(shm);
		st.word = p[0];
		p[1] = ~p[0];
		exo_shm_detach(shm);
		break;
	}
	default:
		break;
	}
	for (i = 0; i < 5; i++)
		m->w[i] = ~m->w[i];
	m->w[5] = m->caller;
}

struct serve_arg {
	struct exo *exo;
	uint32_t entry;
	int ret;
};

static void *serve_thread(void *p)
{
	struct serve_arg *a = p;

	a->ret = exo_serve(a->exo, a->entry, handler, NULL);
	return NULL;
}

static uint32_t ctx_id(struct exo *exo)
{
	return exo_api(exo)->ctx_id;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

FIXTURE(call) {
	struct exo *srv, *cli;
	uint32_t entry;
	uint64_t cap;
	pthread_t th[MAX_THREADS];
	struct serve_arg arg[MAX_THREADS];
	int nth;
	struct exo_counters base;
};

FIXTURE_SETUP(call)
{
	exo_counters_read(&self->base);
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(0, exo_open(&self->srv));
	st.srv = self->srv;
	ASSERT_EQ(0, exo_open(&self->cli));
	ASSERT_EQ(0, exo_entry_register(self->srv, &self->entry));
	ASSERT_EQ(0, exo_call_grant(self->srv, self->entry,
				    ctx_id(self->cli), &self->cap));
	ASSERT_NE(0ull, self->cap);
	self->nth = 0;
}

FIXTURE_TEARDOWN(call)
{
	int i;

	st.released = 1;
	/* Unregistering sends every server thread home with ENOENT. */
	exo_entry_unregister(self->srv, self->entry);
	for (i = 0; i < self->nth; i++) {
		pthread_join(self->th[i], NULL);
		EXPECT_EQ(-ENOENT, self->arg[i].ret);
	}
	exo_close(self->cli);
	exo_close(self->srv);
	exo_counters_expect_baseline(&self->base);
}

static void start_servers(struct __test_metadata *_metadata,
			  FIXTURE_DATA(call) *self, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct serve_arg *a = &self->arg[self->nth];

		a->exo = self->srv;
		a->entry = self->entry;
		ASSERT_EQ(0, pthread_create(&self->th[self->nth], NULL,
					    serve_thread, a));
		self->nth++;
	}
}

/* Message words in, their complement and the caller's id back. */
TEST_F(call, words_and_identity_exact)
{
	uint64_t w[EXO_CALL_WORDS];
	int i, j;

	start_servers(_metadata, self, 1);
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < EXO_CALL_WORDS; j++)
			w[j] = (uint64_t)i << 32 | j << 8 | 0x5a;
		w[5] = 0xffffffffffffffffull;
		ASSERT_EQ(0, exo_call(self->cli, self->cap, w));
		for (j = 0; j < 5; j++)
			ASSERT_EQ(~((uint64_t)i << 32 | j << 8 | 0x5a), w[j]);
		ASSERT_EQ(ctx_id(self->cli), w[5]);
	}
	EXPECT_EQ(1000, st.served);
}

/* Only the capability granted enters; nothing runs for any other. */
TEST_F(call, forged_and_foreign_caps_refused)
{
	uint64_t w[EXO_CALL_WORDS] = { 1, 2, 3, 4, 5, 6 };
	uint64_t forged[] = {
		0, self->cap + 1, self->cap ^ (1ull << 32),
		self->cap | 0xffffffffull, ~0ull,
	};
	unsigned int i;

	start_servers(_metadata, self, 1);
	for (i = 0; i < ARRAY_SIZE(forged); i++) {
		EXPECT_EQ(-ENOENT, exo_call(self->cli, forged[i], w));
		EXPECT_EQ(1ull, w[0]);
	}
	/* The server's own context holds no capability for its entry. */
	EXPECT_EQ(-ENOENT, exo_call(self->srv, self->cap, w));
	EXPECT_EQ(0, st.served);
	EXPECT_EQ(0, exo_call(self->cli, self->cap, w));
	EXPECT_EQ(1, st.served);
}

/* A revoked capability is refused; a new grant is a new name. */
TEST_F(call, revoked_cap_is_stale)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	uint64_t cap2;

	start_servers(_metadata, self, 1);
	ASSERT_EQ(0, exo_call(self->cli, self->cap, w));
	ASSERT_EQ(0, exo_call_revoke(self->srv, self->entry,
				     ctx_id(self->cli), self->cap));
	EXPECT_EQ(-ENOENT, exo_call(self->cli, self->cap, w));
	EXPECT_EQ(-ENOENT, exo_call_revoke(self->srv, self->entry,
					   ctx_id(self->cli), self->cap));
	ASSERT_EQ(0, exo_call_grant(self->srv, self->entry, ctx_id(self->cli),
				    &cap2));
	EXPECT_NE(self->cap, cap2);
	EXPECT_EQ(-ENOENT, exo_call(self->cli, self->cap, w));
	EXPECT_EQ(0, exo_call(self->cli, cap2, w));
	EXPECT_EQ(2, st.served);
}

struct caller_arg {
	struct exo *exo;
	uint64_t cap;
	int n, ret;
	uint64_t sum;
	pthread_t self;
};

static void *caller_thread(void *p)
{
	struct caller_arg *a = p;
	uint64_t w[EXO_CALL_WORDS];
	int i, j, ret;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < EXO_CALL_WORDS; j++)
			w[j] = (uint64_t)a->cap * 31 + i * 7 + j;
		ret = exo_call(a->exo, a->cap, w);
		if (ret) {
			a->ret = ret;
			return NULL;
		}
		for (j = 0; j < 5; j++)
			a->sum += w[j];
	}
	return NULL;
}

/* 8 callers x 1000 calls on 4 server threads: every reply is right. */
TEST_F(call, many_callers_checksum)
{
	struct caller_arg c[8];
	uint64_t want = 0;
	int i, j, k;

	start_servers(_metadata, self, 4);
	for (i = 0; i < 8; i++) {
		c[i] = (struct caller_arg){ .exo = self->cli, .cap = self->cap,
					    .n = 1000 };
		ASSERT_EQ(0, pthread_create(&c[i].self, NULL, caller_thread,
					    &c[i]));
		for (j = 0; j < 1000; j++)
			for (k = 0; k < 5; k++)
				want += ~((uint64_t)self->cap * 31 + j * 7 + k);
	}
	for (i = 0; i < 8; i++) {
		uint64_t sum;

		pthread_join(c[i].self, NULL);
		EXPECT_EQ(0, c[i].ret);
		sum = c[i].sum;
		want -= sum;
	}
	EXPECT_EQ(0ull, want);
	EXPECT_EQ(8000, st.served);
}

static void wait_served(long n)
{
	long t0 = now_ms();

	while (st.served < n && now_ms() - t0 < 20000)
		usleep(1000);
}

/*
 * Sends queue at the entry up to EXO_CALL_MAX_SENDS, then EAGAIN; a
 * server answers them in order, each marked a send, and makes room.
 */
TEST_F(call, sends_queue_bounded_in_order)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	uint64_t i;

	for (i = 0; i < EXO_CALL_MAX_SENDS; i++) {
		w[0] = i;
		w[1] = ~i;
		ASSERT_EQ(0, exo_call_send(self->cli, self->cap, w));
	}
	EXPECT_EQ(-EAGAIN, exo_call_send(self->cli, self->cap, w));
	EXPECT_EQ(-ENOENT, exo_call_send(self->cli, self->cap + 1, w));
	EXPECT_EQ(0, st.served);
	start_servers(_metadata, self, 1);
	wait_served(EXO_CALL_MAX_SENDS);
	EXPECT_EQ(EXO_CALL_MAX_SENDS, st.sends);
	EXPECT_EQ(0, st.out_of_order);
	/* Answered sends make room; a call is not a send. */
	for (; i < 2 * EXO_CALL_MAX_SENDS; i++) {
		w[0] = i;
		w[1] = ~i;
		ASSERT_EQ(0, exo_call_send(self->cli, self->cap, w));
	}
	wait_served(2 * EXO_CALL_MAX_SENDS);
	EXPECT_EQ(0, exo_call(self->cli, self->cap, w));
	EXPECT_EQ(2 * EXO_CALL_MAX_SENDS, st.sends);
	EXPECT_EQ(2 * EXO_CALL_MAX_SENDS + 1, st.served);
	EXPECT_EQ(0, st.out_of_order);
}

/* Sends nobody answered go with their entry. */
TEST_F(call, unanswered_sends_freed_with_entry)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	int i;

	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, exo_call_send(self->cli, self->cap, w));
	ASSERT_EQ(0, exo_entry_unregister(self->srv, self->entry));
	EXPECT_EQ(-ENOENT, exo_call_send(self->cli, self->cap, w));
	ASSERT_EQ(0, exo_entry_register(self->srv, &self->entry));
	EXPECT_EQ(0, st.served);
}

/* Calls waiting with no server thread fail when the entry goes. */
TEST_F(call, unregister_fails_waiting_calls)
{
	struct caller_arg c = { .exo = self->cli, .cap = self->cap, .n = 1 };

	ASSERT_EQ(0, pthread_create(&c.self, NULL, caller_thread, &c));
	usleep(200000);
	ASSERT_EQ(0, exo_entry_unregister(self->srv, self->entry));
	pthread_join(c.self, NULL);
	EXPECT_EQ(-ECONNRESET, c.ret);
	EXPECT_EQ(-ENOENT, exo_entry_unregister(self->srv, self->entry));
	EXPECT_EQ(0, st.served);
}

/* A call waiting for a busy server fails when its capability goes. */
TEST_F(call, revoke_fails_queued_calls)
{
	struct caller_arg a = { .exo = self->cli, .cap = self->cap, .n = 1 };
	struct caller_arg b = { .exo = self->cli, .cap = self->cap, .n = 1 };

	st.mode = BLOCK;
	start_servers(_metadata, self, 1);
	ASSERT_EQ(0, pthread_create(&a.self, NULL, caller_thread, &a));
	while (!st.blocked)
		usleep(1000);
	ASSERT_EQ(0, pthread_create(&b.self, NULL, caller_thread, &b));
	usleep(200000);
	ASSERT_EQ(0, exo_call_revoke(self->srv, self->entry,
				     ctx_id(self->cli), self->cap));
	pthread_join(b.self, NULL);
	EXPECT_EQ(-ECONNRESET, b.ret);
	/* The call being served completes. */
	st.released = 1;
	pthread_join(a.self, NULL);
	EXPECT_EQ(0, a.ret);
	EXPECT_EQ(1, st.served);
}

struct sender_arg {
	struct exo *exo;
	uint64_t cap;
	int ret;
	pthread_t self;
};

/* Send until the capability is gone; a full queue is no reason to stop. */
static void *sender_thread(void *p)
{
	struct sender_arg *a = p;
	uint64_t w[EXO_CALL_WORDS] = { 0 };

	do
		a->ret = exo_call_send(a->exo, a->cap, w);
	while (!a->ret || a->ret == -EAGAIN);
	return NULL;
}

/*
 * Revocation races sends that looked the capability up a moment before:
 * none may be queued after the revoke returns, so once the blocked server
 * is let go it serves no send at all. Many rounds, to meet the window.
 */
TEST_F(call, revoke_races_senders)
{
	struct sender_arg s[3];
	int round, i;

	st.mode = BLOCK;
	start_servers(_metadata, self, 1);
	for (round = 0; round < 40; round++) {
		struct caller_arg a = { .exo = self->cli, .cap = self->cap,
					.n = 1 };
		uint64_t cap;

		st.blocked = 0;
		st.released = 0;
		st.sends = 0;
		ASSERT_EQ(0, pthread_create(&a.self, NULL, caller_thread, &a));
		while (!st.blocked)
			usleep(1000);
		for (i = 0; i < 3; i++) {
			s[i] = (struct sender_arg){ .exo = self->cli,
						    .cap = self->cap };
			ASSERT_EQ(0, pthread_create(&s[i].self, NULL,
						    sender_thread, &s[i]));
		}
		usleep(5000 + round * 500);
		ASSERT_EQ(0, exo_call_revoke(self->srv, self->entry,
					     ctx_id(self->cli), self->cap));
		for (i = 0; i < 3; i++) {
			pthread_join(s[i].self, NULL);
			/* ECONNRESET: it met the revoke between the two. */
			EXPECT_TRUE(s[i].ret == -ENOENT ||
				    s[i].ret == -ECONNRESET)
				TH_LOG("send: %d", s[i].ret);
		}
		/* The call being served was taken before the revoke. */
		st.released = 1;
		pthread_join(a.self, NULL);
		EXPECT_EQ(0, a.ret);
		ASSERT_EQ(0, exo_call_grant(self->srv, self->entry,
					    ctx_id(self->cli), &cap));
		/* A call on the new capability comes after any late send. */
		ASSERT_EQ(0, exo_call(self->cli, cap, (uint64_t[6]){ 0 }));
		ASSERT_EQ(0, st.sends) TH_LOG("round %d", round);
		self->cap = cap;
	}
}

static uint32_t granted(struct exo *exo)
{
	struct exo_ctx_info info;

	if (exo_ctx_info(exo, &info))
		return ~0u;
	return info.granted;
}

/* A call with a frame: the server finds its grant in m->frame. */
TEST_F(call, call_frame_grants_the_frame)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	struct exo_shm *shm;
	uint64_t *p;

	st.mode = FRAME;
	start_servers(_metadata, self, 1);
	ASSERT_EQ(0, exo_shm_create(self->cli, 1, &shm));
	p = exo_shm_addr(shm);
	p[0] = 0x0123456789abcdefull;
	ASSERT_EQ(0, exo_call_frame(self->cli, self->cap, w, exo_shm_cap(shm)));
	EXPECT_NE(0ull, st.frame);
	EXPECT_EQ(0x0123456789abcdefull, st.word);
	EXPECT_EQ(~0x0123456789abcdefull, p[1]);
	EXPECT_EQ(ctx_id(self->cli), w[5]);
	/* The handler dropped its grant; a plain call brings none. */
	EXPECT_EQ(0u, granted(self->srv));
	ASSERT_EQ(0, exo_call(self->cli, self->cap, w));
	EXPECT_EQ(0ull, st.frame);
	EXPECT_EQ(2, st.served);
	EXPECT_EQ(0, exo_shm_destroy(shm));
}

/* A frame the caller may not give: refused, nothing runs or is granted. */
TEST_F(call, call_frame_errors_grant_nothing)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	struct exo_frame mine, theirs;
	exo_cap_t grant;

	start_servers(_metadata, self, 1);
	ASSERT_EQ(0, exo_frame_alloc(self->cli, &mine));
	ASSERT_EQ(0, exo_frame_alloc(self->srv, &theirs));
	ASSERT_EQ(0, exo_frame_grant(self->srv, theirs.cap, ctx_id(self->cli),
				     &grant));
	EXPECT_EQ(-ENOENT, exo_call_frame(self->cli, self->cap, w,
					  mine.cap ^ (1ull << 40)));
	EXPECT_EQ(-EINVAL, exo_call_frame(self->cli, self->cap, w, grant));
	EXPECT_EQ(-ENOENT, exo_call_frame(self->cli, self->cap + 1, w,
					  mine.cap));
	EXPECT_EQ(0, st.served);
	EXPECT_EQ(0u, granted(self->srv));
	ASSERT_EQ(0, exo_call_revoke(self->srv, self->entry,
				     ctx_id(self->cli), self->cap));
	EXPECT_EQ(-ENOENT, exo_call_frame(self->cli, self->cap, w, mine.cap));
	EXPECT_EQ(0, st.served);
	EXPECT_EQ(0u, granted(self->srv));
	EXPECT_EQ(0, exo_frame_free(self->cli, grant));
	EXPECT_EQ(0, exo_frame_free(self->srv, theirs.cap));
	EXPECT_EQ(0, exo_frame_free(self->cli, mine.cap));
}

struct frame_caller {
	struct exo *exo;
	uint64_t cap;
	exo_cap_t frame;
	int ret;
};

static void *frame_caller_thread(void *p)
{
	struct frame_caller *a = p;
	uint64_t w[EXO_CALL_WORDS] = { 0 };

	a->ret = exo_call_frame(a->exo, a->cap, w, a->frame);
	return NULL;
}

/* A call that fails before any server took it takes its grant back. */
TEST_F(call, call_frame_failed_takes_grant_back)
{
	struct frame_caller a = { .exo = self->cli, .cap = self->cap };
	struct exo_frame mine;
	pthread_t th;
	long t0;

	ASSERT_EQ(0, exo_frame_alloc(self->cli, &mine));
	a.frame = mine.cap;
	ASSERT_EQ(0, pthread_create(&th, NULL, frame_caller_thread, &a));
	/* Granted before it queues: visible while it waits. */
	t0 = now_ms();
	while (granted(self->srv) != 1 && now_ms() - t0 < 10000)
		usleep(1000);
	EXPECT_EQ(1u, granted(self->srv));
	usleep(100000);
	ASSERT_EQ(0, exo_entry_unregister(self->srv, self->entry));
	pthread_join(th, NULL);
	EXPECT_EQ(-ECONNRESET, a.ret);
	EXPECT_EQ(0u, granted(self->srv));
	EXPECT_EQ(0, st.served);
	EXPECT_EQ(0, exo_frame_free(self->cli, mine.cap));
	ASSERT_EQ(0, exo_entry_register(self->srv, &self->entry));
}

/* The server thread exits inside the call: the caller hears of it. */
TEST_F(call, server_thread_exit_resets_caller)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	long t0;

	st.mode = EXIT_THREAD;
	start_servers(_metadata, self, 1);
	t0 = now_ms();
	EXPECT_EQ(-ECONNRESET, exo_call(self->cli, self->cap, w));
	EXPECT_LT(now_ms() - t0, 10000);
	/* That thread is gone; another serves. */
	st.mode = ECHO;
	self->nth--;
	pthread_join(self->th[self->nth], NULL);
	start_servers(_metadata, self, 1);
	EXPECT_EQ(0, exo_call(self->cli, self->cap, w));
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * A signal interrupts a call being served (EINTR); the server's reply to
 * the caller that left fails inside exo_serve(), which serves on.
 */
TEST_F(call, caller_signal_interrupts_served_call)
{
	struct caller_arg a = { .exo = self->cli, .cap = self->cap, .n = 1 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t w[EXO_CALL_WORDS] = { 0 };

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	st.mode = BLOCK;
	start_servers(_metadata, self, 1);
	ASSERT_EQ(0, pthread_create(&a.self, NULL, caller_thread, &a));
	while (!st.blocked)
		usleep(1000);
	pthread_kill(a.self, SIGUSR1);
	pthread_join(a.self, NULL);
	EXPECT_EQ(-EINTR, a.ret);
	st.mode = ECHO;
	st.released = 1;
	EXPECT_EQ(0, exo_call(self->cli, self->cap, w));
	EXPECT_EQ(2, st.served);
	signal(SIGUSR1, SIG_DFL);
}

/* A caller's process killed inside a call: the server serves on. */
TEST_F(call, caller_killed_server_serves_on)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	int to_child[2], to_parent[2];
	uint32_t child_id;
	uint64_t cap;
	pid_t pid;
	int status;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	st.mode = BLOCK;
	start_servers(_metadata, self, 1);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct exo *exo;

		if (exo_open(&exo))
			_exit(1);
		child_id = ctx_id(exo);
		if (write(to_parent[1], &child_id, 4) != 4 ||
		    read(to_child[0], &cap, 8) != 8)
			_exit(2);
		exo_call(exo, cap, w);
		_exit(3);
	}
	ASSERT_EQ(4, read(to_parent[0], &child_id, 4));
	ASSERT_EQ(0, exo_call_grant(self->srv, self->entry, child_id, &cap));
	ASSERT_EQ(8, write(to_child[1], &cap, 8));
	/* The server is in the child's call now; the child dies in it. */
	while (!st.blocked)
		usleep(1000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	st.mode = ECHO;
	st.released = 1;
	EXPECT_EQ(0, exo_call(self->cli, self->cap, w));
	EXPECT_EQ(ctx_id(self->cli), w[5]);
	EXPECT_EQ(2, st.served);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/* The server's process killed inside a call: the caller gets ECONNRESET. */
TEST(server_killed_resets_caller)
{
	uint64_t w[EXO_CALL_WORDS] = { 0 };
	int to_child[2], to_parent[2];
	struct exo_counters base;
	struct exo *cli;
	uint32_t id;
	uint64_t cap;
	pid_t pid;
	int status;

	exo_counters_read(&base);
	ASSERT_EQ(0, exo_open(&cli));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct exo *srv;
		uint32_t entry;

		st.mode = BLOCK;
		if (exo_open(&srv) || exo_entry_register(srv, &entry) ||
		    read(to_child[0], &id, 4) != 4 ||
		    exo_call_grant(srv, entry, id, &cap) ||
		    write(to_parent[1], &cap, 8) != 8)
			_exit(1);
		exo_serve(srv, entry, handler, NULL);
		_exit(2);
	}
	id = ctx_id(cli);
	ASSERT_EQ(4, write(to_child[1], &id, 4));
	ASSERT_EQ(8, read(to_parent[0], &cap, 8));
	if (fork() == 0) {
		usleep(300000);
		kill(pid, SIGKILL);
		_exit(0);
	}
	EXPECT_EQ(-ECONNRESET, exo_call(cli, cap, w));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	while (wait(NULL) > 0)
		;
	/* Its capability went with it. */
	EXPECT_EQ(-ENOENT, exo_call(cli, cap, w));
	exo_close(cli);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	exo_counters_expect_baseline(&base);
}

static int reg_raw(int fd, uint64_t pc, uint32_t id, uint32_t rsvd,
		   uint32_t *out)
{
	struct exo_entry_register r = {
		.size = sizeof(r), .pc = pc, .id = id, .__reserved = rsvd,
	};
	int ret = _test_ioctl(fd, EXO_IOC_ENTRY_REGISTER, &r);

	if (!ret && out)
		*out = r.id;
	return ret;
}

TEST(entry_register_errors)
{
	uint64_t pc = (uintptr_t)exo_serve_entry;
	struct exo_entry_unregister u = { .size = sizeof(u) };
	uint32_t id, first = 0;
	int fd, i, ret;

	fd = exo_open_raw(O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EINVAL, reg_raw(fd, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, reg_raw(fd, 0xffff888000000000ull, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, reg_raw(fd, pc, 0, 1, NULL));
	EXPECT_EQ(-EINVAL, reg_raw(fd, pc, 5, 0, NULL));
	for (i = 0; i < 64; i++) {
		ret = reg_raw(fd, pc, 0, 0, &id);
		ASSERT_EQ(0, ret);
		if (!first)
			first = id;
	}
	EXPECT_EQ(-ENOSPC, reg_raw(fd, pc, 0, 0, NULL));
	u.id = first;
	EXPECT_EQ(0, _test_ioctl(fd, EXO_IOC_ENTRY_UNREGISTER, &u));
	EXPECT_EQ(-ENOENT, _test_ioctl(fd, EXO_IOC_ENTRY_UNREGISTER, &u));
	u.id = 1000;
	EXPECT_EQ(-ENOENT, _test_ioctl(fd, EXO_IOC_ENTRY_UNREGISTER, &u));
	u.id = first;
	u.__reserved = 1;
	EXPECT_EQ(-EINVAL, _test_ioctl(fd, EXO_IOC_ENTRY_UNREGISTER, &u));
	/* A freed id is not given again soon. */
	EXPECT_EQ(0, reg_raw(fd, pc, 0, 0, &id));
	EXPECT_NE(first, id);
	EXPECT_EQ(-ENOSPC, reg_raw(fd, pc, 0, 0, NULL));
	close(fd);
}

TEST(call_grant_errors)
{
	struct exo *a, *b;
	uint32_t entry;
	uint64_t cap;

	ASSERT_EQ(0, exo_open(&a));
	ASSERT_EQ(0, exo_open(&b));
	ASSERT_EQ(0, exo_entry_register(a, &entry));
	EXPECT_EQ(-EINVAL, exo_call_grant(a, entry, ctx_id(a), &cap));
	EXPECT_EQ(-ESRCH, exo_call_grant(a, entry, 0x7fffffff, &cap));
	EXPECT_EQ(-ENOENT, exo_call_grant(a, entry + 1, ctx_id(b), &cap));
	/* b has no entry of that id to grant. */
	EXPECT_EQ(-ENOENT, exo_call_grant(b, entry, ctx_id(a), &cap));
	ASSERT_EQ(0, exo_call_grant(a, entry, ctx_id(b), &cap));
	/* Revocation needs the entry, the grantee and the name to agree. */
	EXPECT_EQ(-ENOENT, exo_call_revoke(a, entry + 1, ctx_id(b), cap));
	EXPECT_EQ(-ESRCH, exo_call_revoke(a, entry, 0x7fffffff, cap));
	EXPECT_EQ(-ENOENT, exo_call_revoke(a, entry, ctx_id(b), cap + 1));
	EXPECT_EQ(-ENOENT, exo_call_revoke(b, entry, ctx_id(b), cap));
	EXPECT_EQ(0, exo_call_revoke(a, entry, ctx_id(b), cap));
	EXPECT_EQ(-ENOENT, exo_call_revoke(a, entry, ctx_id(b), cap));
	/* The grantee's close takes its capabilities with it. */
	ASSERT_EQ(0, exo_call_grant(a, entry, ctx_id(b), &cap));
	exo_close(b);
	exo_close(a);
}

TEST_HARNESS_MAIN
