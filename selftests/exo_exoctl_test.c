// SPDX-License-Identifier: GPL-2.0
/*
 * exoctl against what the test set up: two contexts with known frames (any
 * frames in one, a contiguous run bound into an exo VMA in the other), a
 * revocation request made through exoctl itself, claims on lo with and
 * without a handler; exoctl's --json output is parsed and compared field
 * by field, its text output and its errors checked
 * (Documentation/exoctl.rst).
 *
 * exoctl is /usr/sbin/exoctl in the VM (scripts/vm.sh), or $EXOCTL.
 */
#include <sys/mount.h>

#include "exo_net_bpf.h"

#define EXOCTL_DEFAULT	"/usr/sbin/exoctl"
#define DEBUGFS_EXO	"/sys/kernel/debug/exo"
#define OUT_MAX		(1 << 20)

static const char *exoctl_path(void)
{
	const char *p = getenv("EXOCTL");

	return p && *p ? p : EXOCTL_DEFAULT;
}

/* The tables need debugfs; the guest's init mounts it, a host may not. */
static bool debugfs_ready(void)
{
	struct stat st;

	if (!stat(DEBUGFS_EXO, &st))
		return true;
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	return !stat(DEBUGFS_EXO, &st);
}

/* Read @fd to its end into @buf (NUL-terminated). */
static void read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += r;
	}
	buf[n] = '\0';
}

/*
 * Run exoctl with @args (NULL-terminated, without argv[0]), @env added to
 * the environment if not NULL; its stdout into @out, stderr into @err.
 * Return: its exit status, or -1 if it did not exit.
 */
static int run_exoctl(const char *const *args, const char *env, char *out,
		      char *err, size_t len)
{
	int po[2], pe[2], status, i;
	const char *argv[16];
	pid_t pid;

	argv[0] = exoctl_path();
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	if (pipe(po) || pipe(pe))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		if (env)
			putenv((char *)env);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	read_all(po[0], out, len);
	read_all(pe[0], err, len);
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ------------------------------------------------------------------------
 * A JSON reader for exoctl's schema: an object whose "rows" is an array of
 * flat objects of strings, numbers and booleans.
 */

#define J_MAX_ROWS	256
#define J_MAX_FIELDS	32

enum jkind { J_NUM, J_STR, J_BOOL };

struct jfield {
	char key[32];
	enum jkind kind;
	char str[64];
	uint64_t num;		/* J_NUM (as signed, two's complement), J_BOOL */
};

struct jrow {
	int nr;
	struct jfield f[J_MAX_FIELDS];
};

struct jdoc {
	int64_t version;
	char table[32];
	int nr;
	struct jrow rows[J_MAX_ROWS];
};

static void j_ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

static bool j_lit(const char **p, char c)
{
	j_ws(p);
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* A string without escapes other than \" and \\ (exoctl's own output). */
static bool j_str(const char **p, char *out, size_t len)
{
	size_t n = 0;

	if (!j_lit(p, '"'))
		return false;
	while (**p && **p != '"') {
		if (**p == '\\')
			(*p)++;
		if (!**p || n + 1 >= len)
			return false;
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
	return j_lit(p, '"');
}

static bool j_value(const char **p, struct jfield *f)
{
	char *end;

	j_ws(p);
	if (**p == '"') {
		f->kind = J_STR;
		return j_str(p, f->str, sizeof(f->str));
	}
	if (!strncmp(*p, "true", 4) || !strncmp(*p, "false", 5)) {
		f->kind = J_BOOL;
		f->num = **p == 't';
		*p += f->num ? 4 : 5;
		return true;
	}
	f->kind = J_NUM;
	errno = 0;
	if (**p == '-')
		f->num = (uint64_t)strtoll(*p, &end, 10);
	else
		f->num = strtoull(*p, &end, 10);
	if (end == *p || errno || *end == '.' || *end == 'e' || *end == 'E')
		return false;
	*p = end;
	return true;
}

static bool j_row(const char **p, struct jrow *r)
{
	r->nr = 0;
	if (!j_lit(p, '{'))
		return false;
	if (j_lit(p, '}'))
		return true;
	do {
		struct jfield *f;

		if (r->nr == J_MAX_FIELDS)
			return false;
		f = &r->f[r->nr++];
		if (!j_str(p, f->key, sizeof(f->key)) || !j_lit(p, ':') ||
		    !j_value(p, f))
			return false;
	} while (j_lit(p, ','));
	return j_lit(p, '}');
}

/* Parse exoctl --json output; false if it is not the schema. */
static bool j_parse(const char *s, struct jdoc *d)
{
	const char *p = s;
	struct jfield v;
	char key[32];
	bool rows = false, ver = false;

	memset(d, 0, sizeof(*d));
	if (!j_lit(&p, '{'))
		return false;
	do {
		if (!j_str(&p, key, sizeof(key)) || !j_lit(&p, ':'))
			return false;
		if (!strcmp(key, "rows")) {
			rows = true;
			if (!j_lit(&p, '['))
				return false;
			if (j_lit(&p, ']'))
				continue;
			do {
				if (d->nr == J_MAX_ROWS ||
				    !j_row(&p, &d->rows[d->nr++]))
					return false;
			} while (j_lit(&p, ','));
			if (!j_lit(&p, ']'))
				return false;
		} else {
			if (!j_value(&p, &v))
				return false;
			if (!strcmp(key, "version") && v.kind == J_NUM) {
				d->version = (int64_t)v.num;
				ver = true;
			} else if (!strcmp(key, "table") && v.kind == J_STR) {
				strcpy(d->table, v.str);
			}
		}
	} while (j_lit(&p, ','));
	if (!j_lit(&p, '}'))
		return false;
	j_ws(&p);
	return !*p && rows && ver;
}

static const struct jfield *j_get(const struct jrow *r, const char *key)
{
	int i;

	for (i = 0; i < r->nr; i++)
		if (!strcmp(r->f[i].key, key))
			return &r->f[i];
	return NULL;
}

/* A number field's value; ~0 (and the test fails) if missing or not one. */
static uint64_t __j_num(struct __test_metadata *_metadata,
			const struct jrow *r, const char *key)
{
	const struct jfield *f = j_get(r, key);

	EXPECT_NE(NULL, f) TH_LOG("no field \"%s\"", key);
	if (!f)
		return ~0ULL;
	EXPECT_EQ((int)J_NUM, (int)f->kind) TH_LOG("\"%s\" is not a number", key);
	return f->kind == J_NUM ? f->num : ~0ULL;
}
#define j_num(r, key) __j_num(_metadata, r, key)

static const char *__j_s(struct __test_metadata *_metadata,
			 const struct jrow *r, const char *key)
{
	const struct jfield *f = j_get(r, key);

	EXPECT_NE(NULL, f) TH_LOG("no field \"%s\"", key);
	if (!f)
		return "";
	EXPECT_EQ((int)J_STR, (int)f->kind) TH_LOG("\"%s\" is not a string", key);
	return f->kind == J_STR ? f->str : "";
}
#define j_s(r, key) __j_s(_metadata, r, key)

static int __j_bool(struct __test_metadata *_metadata,
		    const struct jrow *r, const char *key)
{
	const struct jfield *f = j_get(r, key);

	EXPECT_NE(NULL, f) TH_LOG("no field \"%s\"", key);
	if (!f)
		return -1;
	EXPECT_EQ((int)J_BOOL, (int)f->kind) TH_LOG("\"%s\" is not a boolean", key);
	return f->kind == J_BOOL ? (int)f->num : -1;
}
#define j_bool(r, key) __j_bool(_metadata, r, key)

/* The row whose number field @key is @val, or NULL. */
static const struct jrow *j_find(const struct jdoc *d, const char *key,
				 uint64_t val)
{
	const struct jfield *f;
	int i;

	for (i = 0; i < d->nr; i++) {
		f = j_get(&d->rows[i], key);
		if (f && f->kind == J_NUM && f->num == val)
			return &d->rows[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */

#define NR_A	3	/* any frames in context a */
#define ORDER_B	2	/* one contiguous run in context b, bound */

FIXTURE(exoctl) {
	struct exo_ctx a, b;
	uint32_t ida, idb;
	uint64_t cap_a[NR_A], pfn_a[NR_A];
	uint64_t cap_b, pfn_b;
	void *vm;
	size_t vm_len;
	char *out, *err;
	struct jdoc *doc;
};

FIXTURE_SETUP(exoctl)
{
	struct exo_frame_alloc fa;
	struct exo_ctx_info info;
	struct stat st;
	int i;

	self->a.fd = self->b.fd = -1;
	self->vm = NULL;
	self->out = malloc(OUT_MAX);
	self->err = malloc(OUT_MAX);
	self->doc = malloc(sizeof(*self->doc));
	ASSERT_TRUE(self->out && self->err && self->doc);
	if (stat(exoctl_path(), &st))
		SKIP(return, "no exoctl at %s (set EXOCTL)", exoctl_path());
	if (!debugfs_ready())
		SKIP(return, "no %s: a kernel without debugfs", DEBUGFS_EXO);

	exo_ctx_open(&self->a, false);
	exo_ctx_open(&self->b, false);
	test_ctx_info(self->a.fd, &info);
	self->ida = info.ctx_id;
	test_ctx_info(self->b.fd, &info);
	self->idb = info.ctx_id;
	for (i = 0; i < NR_A; i++) {
		test_alloc_any(self->a.fd, &fa);
		self->cap_a[i] = fa.cap;
		self->pfn_a[i] = fa.pfn;
	}
	test_alloc_contig(self->b.fd, ORDER_B, &fa);
	self->cap_b = fa.cap;
	self->pfn_b = fa.pfn;

	/* b's run bound, page by page, into an exo VMA. */
	self->vm_len = (size_t)getpagesize() << ORDER_B;
	self->vm = exo_vm_mmap(self->b.fd, self->vm_len,
			       PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->vm);
	test_map_one(self->b.fd, self->vm, self->cap_b, 0, 1U << ORDER_B,
		     EXO_PROT_READ | EXO_PROT_WRITE);
}

FIXTURE_TEARDOWN(exoctl)
{
	if (self->vm)
		munmap(self->vm, self->vm_len);
	exo_ctx_close(&self->a);
	exo_ctx_close(&self->b);
	free(self->out);
	free(self->err);
	free(self->doc);
}

/* Run exoctl, expect exit status @want, parse --json output if asked. */
#define exoctl(want, ...)						\
	do {								\
		const char *__args[] = { __VA_ARGS__, NULL };		\
		int __rc = run_exoctl(__args, NULL, self->out, self->err, \
				      OUT_MAX);				\
		ASSERT_EQ(want, __rc) TH_LOG("exoctl: %s", self->err);	\
	} while (0)
#define exoctl_json(...)						\
	do {								\
		exoctl(0, __VA_ARGS__, "--json");			\
		ASSERT_TRUE(j_parse(self->out, self->doc))		\
			TH_LOG("not exoctl's JSON: %s", self->out);	\
		ASSERT_EQ(1, self->doc->version);			\
	} while (0)

TEST_F(exoctl, contexts)
{
	const struct jrow *ra, *rb;
	char comm[17] = "", id[16];

	ASSERT_EQ(0, prctl(PR_GET_NAME, comm));
	exoctl_json("contexts");
	ASSERT_STREQ("contexts", self->doc->table);
	ra = j_find(self->doc, "id", self->ida);
	rb = j_find(self->doc, "id", self->idb);
	ASSERT_NE(NULL, ra) TH_LOG("no row for context %u", self->ida);
	ASSERT_NE(NULL, rb) TH_LOG("no row for context %u", self->idb);
	EXPECT_EQ((uint64_t)getpid(), j_num(ra, "pid"));
	EXPECT_STREQ(comm, j_s(ra, "comm"));
	EXPECT_EQ((uint64_t)geteuid(), j_num(ra, "uid"));
	EXPECT_EQ((uint64_t)NR_A, j_num(ra, "frames"));
	EXPECT_EQ((uint64_t)NR_A, j_num(ra, "caps"));
	EXPECT_EQ((uint64_t)NR_A, j_num(ra, "allocs"));
	EXPECT_EQ(0ULL, j_num(ra, "bindings"));
	EXPECT_EQ((uint64_t)(1U << ORDER_B), j_num(rb, "frames"));
	EXPECT_EQ(1ULL, j_num(rb, "caps"));
	EXPECT_EQ((uint64_t)(1U << ORDER_B), j_num(rb, "bindings"));
	EXPECT_EQ(exo_param("frame_quota"), j_num(ra, "quota"));
	EXPECT_STREQ("signal", j_s(ra, "mode"));
	EXPECT_STREQ("idle", j_s(ra, "state"));
	EXPECT_EQ(0ULL, j_num(ra, "owed"));

	/* --ctx: that context's row alone. */
	exoctl_json("contexts", "--ctx", "0");
	EXPECT_EQ(0, self->doc->nr);
	snprintf(id, sizeof(id), "%u", self->idb);
	exoctl_json("contexts", "--ctx", id);
	ASSERT_EQ(1, self->doc->nr);
	EXPECT_EQ((uint64_t)self->idb, j_num(&self->doc->rows[0], "id"));
}

TEST_F(exoctl, frames)
{
	const struct jrow *r;
	char id[16], cap[32];
	int i, j, seen = 0;

	snprintf(id, sizeof(id), "%u", self->ida);
	exoctl_json("frames", "--ctx", id);
	ASSERT_STREQ("frames", self->doc->table);
	ASSERT_EQ(NR_A, self->doc->nr) TH_LOG("%s", self->out);
	for (i = 0; i < self->doc->nr; i++) {
		r = &self->doc->rows[i];
		EXPECT_EQ((uint64_t)self->ida, j_num(r, "ctx"));
		for (j = 0; j < NR_A; j++) {
			snprintf(cap, sizeof(cap), "0x%" PRIx64, self->cap_a[j]);
			if (strcmp(cap, j_s(r, "cap")))
				continue;
			seen |= 1 << j;
			EXPECT_EQ((uint64_t)self->pfn_a[j], j_num(r, "pfn"));
			EXPECT_EQ(EXO_CAP_INDEX(self->cap_a[j]),
				  j_num(r, "index"));
		}
		EXPECT_EQ(0ULL, j_num(r, "order"));
		EXPECT_STREQ("any", j_s(r, "how"));
		EXPECT_EQ(0, j_bool(r, "critical"));
		EXPECT_EQ(0, j_bool(r, "pinned"));
		EXPECT_EQ(0ULL, j_num(r, "bindings"));
		EXPECT_EQ(0ULL, j_num(r, "src"));
		EXPECT_EQ(0ULL, j_num(r, "grants"));
	}
	EXPECT_EQ((1 << NR_A) - 1, seen) TH_LOG("%s", self->out);

	/* Every row of every context: b's run is there too, bound. */
	exoctl_json("frames");
	snprintf(cap, sizeof(cap), "0x%" PRIx64, self->cap_b);
	for (i = 0, r = NULL; i < self->doc->nr; i++)
		if (!strcmp(cap, j_s(&self->doc->rows[i], "cap")) &&
		    j_num(&self->doc->rows[i], "ctx") == self->idb)
			r = &self->doc->rows[i];
	ASSERT_NE(NULL, r) TH_LOG("no row for %s: %s", cap, self->out);
	EXPECT_EQ((uint64_t)self->pfn_b, j_num(r, "pfn"));
	EXPECT_EQ((uint64_t)ORDER_B, j_num(r, "order"));
	EXPECT_STREQ("contig", j_s(r, "how"));
	EXPECT_EQ((uint64_t)(1U << ORDER_B), j_num(r, "bindings"));
}

TEST_F(exoctl, vm)
{
	const struct jrow *r;
	char id[16], cap[32];
	uint64_t va = (uintptr_t)self->vm;
	unsigned int i;

	snprintf(id, sizeof(id), "%u", self->idb);
	snprintf(cap, sizeof(cap), "0x%" PRIx64, self->cap_b);
	exoctl_json("vm", "--ctx", id);
	ASSERT_EQ(1 << ORDER_B, self->doc->nr) TH_LOG("%s", self->out);
	for (i = 0; i < 1U << ORDER_B; i++) {
		char want[32];

		r = &self->doc->rows[i];
		snprintf(want, sizeof(want), "0x%" PRIx64,
			 va + (uint64_t)i * getpagesize());
		EXPECT_STREQ(want, j_s(r, "va"));
		EXPECT_STREQ(cap, j_s(r, "cap"));
		EXPECT_EQ((uint64_t)(self->pfn_b + i), j_num(r, "pfn"));
		EXPECT_STREQ("rw-", j_s(r, "prot"));
		EXPECT_LE(0, j_bool(r, "dirty"));
	}
	/* a binds nothing. */
	snprintf(id, sizeof(id), "%u", self->ida);
	exoctl_json("vm", "--ctx", id);
	EXPECT_EQ(0, self->doc->nr);
}

TEST_F(exoctl, revoke)
{
	const struct jrow *r;
	uint64_t rid;
	char id[16];

	snprintf(id, sizeof(id), "%u", self->ida);
	/* A long deadline: the request stays pending while it is looked at. */
	exoctl_json("revoke", id, "1", "--timeout", "600000");
	ASSERT_STREQ("revoke", self->doc->table);
	ASSERT_EQ(1, self->doc->nr);
	rid = j_num(&self->doc->rows[0], "id");
	EXPECT_NE(0ULL, rid);
	EXPECT_EQ((uint64_t)self->ida, j_num(&self->doc->rows[0], "ctx"));

	exoctl_json("revocations", "--ctx", id);
	ASSERT_EQ(1, self->doc->nr) TH_LOG("%s", self->out);
	r = &self->doc->rows[0];
	EXPECT_EQ((uint64_t)rid, j_num(r, "id"));
	EXPECT_EQ(1ULL, j_num(r, "owed"));
	EXPECT_STREQ("requested", j_s(r, "state"));
	EXPECT_LT(0ULL, j_num(r, "deadline_ms"));
	EXPECT_GE(600000ULL, j_num(r, "deadline_ms"));
	EXPECT_EQ(1ULL, j_num(r, "requested"));
	EXPECT_EQ(0ULL, j_num(r, "returned"));

	exoctl_json("contexts", "--ctx", id);
	ASSERT_EQ(1, self->doc->nr);
	EXPECT_EQ(1ULL, j_num(&self->doc->rows[0], "owed"));
	EXPECT_STREQ("requested", j_s(&self->doc->rows[0], "state"));

	/* The library OS gives one frame back: the request is done. */
	test_frame_free(self->a.fd, self->cap_a[NR_A - 1]);
	exoctl_json("revocations", "--ctx", id);
	ASSERT_EQ(1, self->doc->nr);
	r = &self->doc->rows[0];
	EXPECT_EQ(0ULL, j_num(r, "owed"));
	EXPECT_STREQ("idle", j_s(r, "state"));
	EXPECT_EQ(1ULL, j_num(r, "returned"));
	exoctl_json("frames", "--ctx", id);
	EXPECT_EQ(NR_A - 1, self->doc->nr);

	/* b was never asked: no row. */
	snprintf(id, sizeof(id), "%u", self->idb);
	exoctl_json("revocations", "--ctx", id);
	EXPECT_EQ(0, self->doc->nr);
}

TEST_F(exoctl, claims)
{
	unsigned int lo = if_nametoindex("lo");
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), c1, c2;
	const struct jrow *r;
	char id[16], tag[17];
	int prog, i;

	ASSERT_NE(0U, lo);
	prog = net_prog_verdict(BPF_PROG_TYPE_SCHED_CLS, EXO_NET_PASS);
	ASSERT_LE(0, prog) TH_LOG("loading a handler: %s", strerror(-prog));
	ASSERT_EQ(0, bpf_obj_get_info_by_fd(prog, &info, &len));
	test_net_attach(self->a.fd, lo);
	test_net_claim_udp(self->a.fd, lo, 47001, -1, &c1);
	test_net_claim_udp(self->a.fd, lo, 47002, prog, &c2);
	close(prog);	/* the claim holds it */

	snprintf(id, sizeof(id), "%u", self->ida);
	exoctl_json("claims", "--ctx", id);
	ASSERT_EQ(2, self->doc->nr) TH_LOG("%s", self->out);
	for (i = 0; i < 2; i++) {
		r = j_find(self->doc, "claim", i ? c2 : c1);
		ASSERT_NE(NULL, r) TH_LOG("%s", self->out);
		EXPECT_EQ((uint64_t)self->ida, j_num(r, "ctx"));
		EXPECT_EQ((uint64_t)lo, j_num(r, "ifindex"));
		EXPECT_EQ((uint64_t)NET_ETH_P_IP, j_num(r, "ethertype"));
		EXPECT_EQ((uint64_t)IPPROTO_UDP, j_num(r, "proto"));
		EXPECT_EQ(i ? 47002ULL : 47001ULL, j_num(r, "port"));
		EXPECT_EQ(i ? (uint64_t)info.id : 0ULL, j_num(r, "handler"));
		EXPECT_EQ(0ULL, j_num(r, "packets"));
	}

	exoctl_json("handlers", "--ctx", id);
	ASSERT_EQ(1, self->doc->nr) TH_LOG("%s", self->out);
	r = &self->doc->rows[0];
	EXPECT_EQ((uint64_t)c2, j_num(r, "claim"));
	EXPECT_EQ((uint64_t)lo, j_num(r, "ifindex"));
	EXPECT_EQ((uint64_t)info.id, j_num(r, "prog_id"));
	for (i = 0; i < 8; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	EXPECT_STREQ(tag, j_s(r, "tag"));
	EXPECT_STREQ(info.name, j_s(r, "name"));

	/* b claims nothing. */
	snprintf(id, sizeof(id), "%u", self->idb);
	exoctl_json("claims", "--ctx", id);
	EXPECT_EQ(0, self->doc->nr);
}

/* Out of line: the harness's setjmp() would clobber the locals. */
static void __attribute__((noinline))
check_stats(struct __test_metadata *_metadata, const struct jdoc *d)
{
	uint64_t frames = ~0ULL, contexts = ~0ULL;
	struct exo_counters c = { 0 };
	const struct jrow *r;
	int i;

	for (i = 0; i < d->nr; i++) {
		r = &d->rows[i];
		if (!strcmp(j_s(r, "counter"), "frames"))
			frames = j_num(r, "value");
		if (!strcmp(j_s(r, "counter"), "contexts"))
			contexts = j_num(r, "value");
	}
	exo_counters_read(&c);
	/* Nothing else runs: the counters are those of this test. */
	EXPECT_EQ(c.frames, frames);
	EXPECT_EQ(c.contexts, contexts);
	EXPECT_LE((uint64_t)NR_A + (1U << ORDER_B), frames);
	EXPECT_LE(2ULL, contexts);
}

TEST_F(exoctl, stats)
{
	exoctl_json("stats");
	ASSERT_STREQ("stats", self->doc->table);
	EXPECT_EQ(10, self->doc->nr);
	check_stats(_metadata, self->doc);
}

/* @text in the log, each line a diagnostic of its own. */
static void show(const char *title, const char *text)
{
	const char *l, *nl;

	ksft_print_msg("%s:\n", title);
	for (l = text; *l; l = nl + 1) {
		nl = strchrnul(l, '\n');
		ksft_print_msg("  %.*s\n", (int)(nl - l), l);
		if (!*nl)
			break;
	}
}

/* Does a line of @text start with the words @id and @pid? */
static bool has_row(const char *text, unsigned int id, int pid)
{
	const char *l;
	unsigned int i;
	int p;

	for (l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (sscanf(l, "%u %d", &i, &p) == 2 && i == id && p == pid)
			return true;
	return false;
}

TEST_F(exoctl, text)
{
	char cap[32];

	/* Numbers are right-aligned, their headers too. */
	exoctl(0, "contexts");
	EXPECT_EQ(0, strncmp(self->out + strspn(self->out, " "), "id ", 3))
		TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, " comm "));
	EXPECT_TRUE(has_row(self->out, self->ida, getpid()))
		TH_LOG("%s", self->out);
	EXPECT_TRUE(has_row(self->out, self->idb, getpid()))
		TH_LOG("%s", self->out);

	/* For the log: what a user sees. */
	show("exoctl contexts", self->out);

	exoctl(0, "frames");
	EXPECT_EQ(0, strncmp(self->out + strspn(self->out, " "), "ctx ", 4))
		TH_LOG("%s", self->out);
	snprintf(cap, sizeof(cap), " 0x%" PRIx64 " ", self->cap_b);
	EXPECT_NE(NULL, strstr(self->out, cap)) TH_LOG("%s", self->out);
	exoctl(0, "stats");
	EXPECT_EQ(0, strncmp(self->out, "counter", 7));
	exoctl(0, "frames", "--json");
	show("exoctl frames --json", self->out);
}

TEST_F(exoctl, errors)
{
	const char *none[] = { "contexts", NULL };
	int rc;

	exoctl(2, "bogus");
	exoctl(2, "frames", "--ctx", "x");
	exoctl(2, "stats", "--ctx", "1");
	exoctl(2, "revoke", "1");
	exoctl(2, "revoke", "1", "0");
	exoctl(2, "frames", "extra");
	exoctl(1, "revoke", "4294967295", "1");
	EXPECT_NE(NULL, strstr(self->err, "no context"))
		TH_LOG("%s", self->err);

	rc = run_exoctl(none, "EXOCTL_DEBUGFS=/nonexistent/exo", self->out,
			self->err, OUT_MAX);
	EXPECT_EQ(1, rc);
	EXPECT_NE(NULL, strstr(self->err,
			       "/nonexistent/exo not found: is exo.ko loaded and debugfs mounted?"))
		TH_LOG("%s", self->err);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test_harness_run(argc, argv);
}
