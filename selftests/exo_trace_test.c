// SPDX-License-Identifier: GPL-2.0
/*
 * exo's trace events through tracefs, as trace-cmd and perf see them: a
 * tracing instance of its own with events/exo enabled, a known sequence
 * of commands, and each event found with the fields the commands had
 * (Documentation/tracing.rst).
 */
#include <setjmp.h>
#include <sys/mount.h>

#include "exo_util.h"

#define TRACEFS		"/sys/kernel/tracing"
#define INSTANCE	TRACEFS "/instances/exo_trace_test"

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jmp, 1);
}

/* tracefs mounted where it is expected; false if the kernel has none. */
static bool tracefs_ready(void)
{
	if (!access(TRACEFS "/instances", F_OK))
		return true;
	mount("nodev", TRACEFS, "tracefs", 0, NULL);
	return !access(TRACEFS "/instances", F_OK);
}

/* The instance's whole buffer, NUL-terminated; the caller frees it. */
static char *read_trace(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(INSTANCE "/trace", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/*
 * The first line after @from holding "@event: " and every one of the
 * NULL-terminated @fields ("key=value"), or NULL.
 */
static const char *find_event(const char *from, const char *event,
			      const char *const *fields)
{
	char tag[64];
	const char *p = from;

	snprintf(tag, sizeof(tag), " %s: ", event);
	while ((p = strstr(p, tag))) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char line[512];
		bool all = true;
		int i;

		snprintf(line, sizeof(line), "%.*s ", (int)n, p);
		for (i = 0; fields[i]; i++) {
			char want[96];

			snprintf(want, sizeof(want), " %s ", fields[i]);
			if (!strstr(line, want))
				all = false;
		}
		if (all)
			return end ? end : p + n;
		p += n;
	}
	return NULL;
}

FIXTURE(trace) {
	int fd, fd2;
	uint32_t id, id2;
	bool instance;
};

FIXTURE_SETUP(trace)
{
	struct exo_ctx_info info = { 0 };

	self->fd = self->fd2 = -1;
	self->instance = false;
	if (!tracefs_ready())
		SKIP(return, "no tracefs at " TRACEFS " (a kernel without tracing)");
	if (access(TRACEFS "/events/exo", F_OK))
		SKIP(return, "no events/exo in tracefs (CONFIG_TRACEPOINTS off)");
	rmdir(INSTANCE);
	ASSERT_EQ(0, mkdir(INSTANCE, 0755)) TH_LOG("mkdir %s: %s", INSTANCE,
						    strerror(errno));
	self->instance = true;
	ASSERT_EQ(0, exo_write_str(INSTANCE "/events/exo/enable", "1"));
	self->fd = exo_open_raw(O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->fd2 = exo_open_raw(O_CLOEXEC);
	ASSERT_LE(0, self->fd2);
	test_ctx_info(self->fd, &info);
	self->id = info.ctx_id;
	test_ctx_info(self->fd2, &info);
	self->id2 = info.ctx_id;
}

FIXTURE_TEARDOWN(trace)
{
	if (self->fd2 >= 0)
		close(self->fd2);
	if (self->fd >= 0)
		close(self->fd);
	if (self->instance) {
		exo_write_str(INSTANCE "/events/exo/enable", "0");
		rmdir(INSTANCE);
	}
}

/*
 * Allocate, map, protect, unmap, fault, a revocation request, grant and
 * free: each leaves its event, in order, with the call's values.
 */
TEST_F(trace, sequence_leaves_its_events)
{
	struct exo_frame_grant g = { .size = sizeof(g) };
	struct exo_revoke r = { .size = sizeof(r) };
	struct exo_frame_alloc f;
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	char ctx[32], ctx2[32], cap[48], pfn[48], va[48], to[32], grant[48];
	const char *alloc[] = { ctx, cap, pfn, "order=0", NULL };
	const char *map[] = { ctx, "nr=1", "ret=0", NULL };
	const char *fault[] = { ctx, va, "how=sigbus", NULL };
	const char *gr[] = { ctx, cap, to, grant, NULL };
	const char *req[] = { ctx, "nr=1", NULL };
	const char *done[] = { ctx, NULL };
	const char *freed[] = { ctx, pfn, "order=0", NULL };
	const char *freed2[] = { ctx2, pfn, NULL };
	const char *at;
	volatile char *p;
	long pg = sysconf(_SC_PAGESIZE);
	char *trace;

	test_alloc_any(self->fd, &f);
	p = exo_vm_mmap(self->fd, pg, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	test_map_one(self->fd, (void *)p, f.cap, 0, 1,
		     EXO_PROT_READ | EXO_PROT_WRITE);
	p[0] = 1;
	test_protect_range(self->fd, (void *)p, pg, EXO_PROT_READ);
	test_unmap_range(self->fd, (void *)p, pg);
	/* No binding: the access faults to the library OS, here SIGBUS. */
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, &old));
	if (!sigsetjmp(bus_jmp, 1)) {
		(void)p[0];
		ASSERT_TRUE(false) TH_LOG("read of an unbound page succeeded");
	}
	ASSERT_EQ(0, sigaction(SIGBUS, &old, NULL));
	r.ctx_id = self->id;
	r.nr = 1;
	r.timeout_ms = 60000;
	ASSERT_EQ(0, _test_ioctl(self->fd, EXO_IOC_REVOKE, &r));
	g.cap = f.cap;
	g.ctx_id = self->id2;
	ASSERT_EQ(0, _test_ioctl(self->fd, EXO_IOC_FRAME_GRANT, &g));
	munmap((void *)p, pg);
	close(self->fd2);
	self->fd2 = -1;
	test_frame_free(self->fd, f.cap);

	trace = read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(ctx, sizeof(ctx), "ctx=%u", self->id);
	snprintf(ctx2, sizeof(ctx2), "ctx=%u", self->id2);
	snprintf(cap, sizeof(cap), "cap=%#llx", (unsigned long long)f.cap);
	snprintf(pfn, sizeof(pfn), "pfn=%#llx", (unsigned long long)f.pfn);
	snprintf(va, sizeof(va), "va=%#lx", (unsigned long)p);
	snprintf(to, sizeof(to), "to=%u", self->id2);
	snprintf(grant, sizeof(grant), "grant=%#llx",
		 (unsigned long long)g.grant_cap);
	at = find_event(trace, "exo_frame_alloc", alloc);
	ASSERT_NE(NULL, at) TH_LOG("no exo_frame_alloc %s %s %s in:\n%s",
				   ctx, cap, pfn, trace);
	at = find_event(at, "exo_map", map);
	ASSERT_NE(NULL, at) TH_LOG("no exo_map after it:\n%s", trace);
	at = find_event(at, "exo_protect", map);
	ASSERT_NE(NULL, at) TH_LOG("no exo_protect after it:\n%s", trace);
	at = find_event(at, "exo_unmap", map);
	ASSERT_NE(NULL, at) TH_LOG("no exo_unmap after it:\n%s", trace);
	at = find_event(at, "exo_fault", fault);
	ASSERT_NE(NULL, at) TH_LOG("no exo_fault %s after it:\n%s", va,
				   trace);
	at = find_event(at, "exo_revoke_request", req);
	ASSERT_NE(NULL, at) TH_LOG("no exo_revoke_request:\n%s", trace);
	at = find_event(at, "exo_grant", gr);
	ASSERT_NE(NULL, at) TH_LOG("no exo_grant after it:\n%s", trace);
	/* The grantee's close drops its capability, not the frame. */
	ASSERT_EQ(NULL, find_event(trace, "exo_frame_free", freed2));
	/* The free gives the requested frame back: the request is done. */
	ASSERT_NE(NULL, find_event(at, "exo_frame_free", freed))
		TH_LOG("no exo_frame_free after it:\n%s", trace);
	ASSERT_NE(NULL, find_event(at, "exo_revoke_done", done))
		TH_LOG("no exo_revoke_done after it:\n%s", trace);
	/* What trace-cmd would show: kept in the test's log. */
	TH_LOG("the instance's trace:\n%s", trace);
	free(trace);
}

/* A failed command's event carries its error; a disabled event is silent. */
TEST_F(trace, errors_and_disabled_events)
{
	char ctx[32], *trace;
	const char *map[] = { ctx, "nr=1", NULL };
	const char *failed[] = { ctx, "nr=1", "ret=-2", NULL };
	long pg = sysconf(_SC_PAGESIZE);
	void *p;

	snprintf(ctx, sizeof(ctx), "ctx=%u", self->id);
	p = exo_vm_mmap(self->fd, pg, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	/* A forged capability: ENOENT, and the event says so. */
	test_err_map_one(ENOENT, self->fd, p, 0x7777000000000001ull, 0, 1,
			 EXO_PROT_READ);
	ASSERT_EQ(0, exo_write_str(INSTANCE "/events/exo/exo_unmap/enable",
				   "0"));
	test_unmap_range(self->fd, p, pg);
	munmap(p, pg);

	trace = read_trace();
	ASSERT_NE(NULL, trace);
	EXPECT_NE(NULL, find_event(trace, "exo_map", failed))
		TH_LOG("no exo_map ret=-2:\n%s", trace);
	EXPECT_EQ(NULL, find_event(trace, "exo_unmap", map))
		TH_LOG("a disabled exo_unmap was recorded:\n%s", trace);
	free(trace);
}

TEST_HARNESS_MAIN
