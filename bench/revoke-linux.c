// SPDX-License-Identifier: GPL-2.0
/*
 * exo-vm-bench, the stock Linux columns of the revocation rows.
 *
 * REVOKE-RT: Linux has no call that asks a process for memory back; the
 * nearest is the process's own protocol: the asking thread writes the
 * number of pages wanted to an eventfd, a handler thread asleep in
 * poll(2) on it drops that many pages of an anonymous mapping with
 * madvise(MADV_DONTNEED), which frees them, and writes the count back
 * to a second eventfd the asking thread sleeps on.
 *
 * ABORT: Linux cannot swap out without swap (the guest has none), and
 * MADV_PAGEOUT then leaves anonymous and shmem pages where they are. So
 * "save the contents and drop the mapping" is done by hand, as exo's abort
 * does it in the kernel: pwrite(2) of the pages into a memfd (shmem, as
 * exo's save area), then MADV_DONTNEED. RECOVER is pread(2) back into the
 * mapping, its pages present again as exo's new frames are, and a hole
 * punched where they were saved, as RECOVER releases exo's save area.
 *
 * The mapping sits between two PROT_NONE guard pages, as in vm-linux.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "revoke-bench.h"

struct rl_col {
	char *va;
	size_t len;
	unsigned int npages;
	unsigned char *vec;		/* mincore(2) */
	int req, done, stop;		/* REVOKE-RT's eventfds */
	pthread_t thread;
	int memfd;			/* ABORT's save area */
	uint64_t round;
};

static struct rl_col *rl_new(struct bench_col *c)
{
	struct rl_col *x = calloc(1, sizeof(*x));
	char *map;

	if (!x)
		die("out of memory");
	x->npages = c->npages;
	x->len = (size_t)c->npages * bench_page;
	map = mmap(NULL, x->len + 2 * bench_page, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	x->va = map + bench_page;
	if (mprotect(x->va, x->len, PROT_READ | PROT_WRITE))
		die("mprotect: %s", strerror(errno));
	x->vec = calloc(c->npages, 1);
	if (!x->vec)
		die("out of memory");
	x->req = x->done = x->stop = x->memfd = -1;
	rv_fill(x->va, x->npages, 0);
	c->priv = x;
	return x;
}

/* The pages given back or saved must really be gone from the process. */
static void check_dropped(struct rl_col *x, const char *what)
{
	unsigned int i;

	if (mincore(x->va, x->len, x->vec))
		die("mincore: %s", strerror(errno));
	for (i = 0; i < x->npages; i++)
		if (x->vec[i] & 1)
			die("linux: %s: page %u is still resident", what, i);
}

static void *rt_handler(void *arg)
{
	struct rl_col *x = arg;
	struct pollfd p[2];
	uint64_t k;

	for (;;) {
		p[0].fd = x->req;
		p[0].events = POLLIN;
		p[1].fd = x->stop;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("linux: poll: %s", strerror(errno));
		}
		if (p[1].revents)
			return NULL;
		k = efd_read(x->req);
		if (k > x->npages)
			die("linux: REVOKE-RT: asked for %llu pages of %u",
			    (unsigned long long)k, x->npages);
		if (madvise(x->va + x->len - k * bench_page, k * bench_page,
			    MADV_DONTNEED))
			die("linux: madvise(MADV_DONTNEED): %s", strerror(errno));
		efd_write(x->done, k);
	}
}

const char *rl_setup_rt(struct bench_col *c)
{
	struct rl_col *x = rl_new(c);
	int ret;

	x->req = eventfd(0, EFD_CLOEXEC);
	x->done = eventfd(0, EFD_CLOEXEC);
	x->stop = eventfd(0, EFD_CLOEXEC);
	if (x->req < 0 || x->done < 0 || x->stop < 0)
		die("eventfd: %s", strerror(errno));
	ret = pthread_create(&x->thread, NULL, rt_handler, x);
	if (ret)
		die("pthread_create: %s", strerror(ret));
	return NULL;
}

void rl_rt(struct bench_col *c, double *out)
{
	struct rl_col *x = c->priv;
	uint64_t t0, got;

	t0 = bench_now();
	efd_write(x->req, x->npages);
	got = efd_read(x->done);
	out[0] = bench_since(t0);
	if (got != x->npages)
		die("linux: REVOKE-RT: the handler gave %llu pages, not %u",
		    (unsigned long long)got, x->npages);
	check_dropped(x, "REVOKE-RT");
	rv_fill(x->va, x->npages, ++x->round);
}

const char *rl_setup_abort(struct bench_col *c)
{
	struct rl_col *x = rl_new(c);

	x->memfd = memfd_create("exo-vm-bench-save", MFD_CLOEXEC);
	if (x->memfd < 0)
		die("memfd_create: %s", strerror(errno));
	return NULL;
}

static void save(struct rl_col *x)
{
	size_t done = 0;
	ssize_t n;

	while (done < x->len) {
		n = pwrite(x->memfd, x->va + done, x->len - done, done);
		if (n <= 0)
			die("linux: pwrite to the memfd: %s",
			    n ? strerror(errno) : "wrote nothing");
		done += n;
	}
}

static void restore(struct rl_col *x)
{
	size_t done = 0;
	ssize_t n;

	while (done < x->len) {
		n = pread(x->memfd, x->va + done, x->len - done, done);
		if (n <= 0)
			die("linux: pread from the memfd: %s",
			    n ? strerror(errno) : "end of file");
		done += n;
	}
}

void rl_abort(struct bench_col *c, double *out)
{
	struct rl_col *x = c->priv;
	double t_abort, t_recover;
	unsigned int i;
	uint64_t t0;

	rv_fill(x->va, x->npages, ++x->round);
	t0 = bench_now();
	save(x);
	if (madvise(x->va, x->len, MADV_DONTNEED))
		die("linux: madvise(MADV_DONTNEED): %s", strerror(errno));
	t_abort = bench_since(t0);
	check_dropped(x, "ABORT");

	/* The pages to restore into, present as exo's new frames are. */
	for (i = 0; i < x->npages; i++)
		bench_poke(x->va + (size_t)i * bench_page, 0);
	/* Restored, the saved pages are freed, as RECOVER frees exo's. */
	t0 = bench_now();
	restore(x);
	if (fallocate(x->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      x->len))
		die("fallocate(PUNCH_HOLE) on the memfd: %s", strerror(errno));
	t_recover = bench_since(t0);
	rv_verify(x->va, x->npages, x->round, "linux: ABORT then RECOVER");
	rv_abort_out(c, out, t_abort, t_recover);
}

void rl_teardown(struct bench_col *c)
{
	struct rl_col *x = c->priv;

	if (x->stop >= 0) {
		efd_write(x->stop, 1);
		pthread_join(x->thread, NULL);
		close(x->req);
		close(x->done);
		close(x->stop);
	}
	if (x->memfd >= 0)
		close(x->memfd);
	if (munmap(x->va - bench_page, x->len + 2 * bench_page))
		die("munmap: %s", strerror(errno));
	free(x->vec);
	free(x);
}
