// SPDX-License-Identifier: GPL-2.0
/*
 * exo-vm-bench's revocation rows, shared by the exo and Linux columns: the
 * contents every page given back or saved holds, so that a page lost, or
 * restored from the wrong place or the wrong round, shows.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "revoke-bench.h"

static uint64_t word(uint64_t round, unsigned int page, unsigned int w)
{
	return 0x7265766f6b652d00ull ^ (round << 40) ^ ((uint64_t)page << 12) ^ w;
}

void rv_fill(char *va, unsigned int npages, uint64_t round)
{
	unsigned int i, w, words = bench_page / sizeof(uint64_t);
	uint64_t *p;

	for (i = 0; i < npages; i++) {
		p = (uint64_t *)(va + (size_t)i * bench_page);
		for (w = 0; w < words; w++)
			p[w] = word(round, i, w);
	}
}

void rv_verify(const char *va, unsigned int npages, uint64_t round,
	       const char *what)
{
	unsigned int i, w, words = bench_page / sizeof(uint64_t);
	const uint64_t *p;

	for (i = 0; i < npages; i++) {
		p = (const uint64_t *)(va + (size_t)i * bench_page);
		for (w = 0; w < words; w++)
			if (p[w] != word(round, i, w))
				die("%s: page %u word %u holds %#llx, not round %llu's %#llx",
				    what, i, w, (unsigned long long)p[w],
				    (unsigned long long)round,
				    (unsigned long long)word(round, i, w));
	}
}

void efd_write(int fd, uint64_t n)
{
	if (write(fd, &n, sizeof(n)) != sizeof(n))
		die("write to an eventfd: %s", strerror(errno));
}

/*
 * No time limit: in the exo column a handler that never answered would meet
 * the abort at the request's deadline, whose REPOSSESSED stops the run.
 */
uint64_t efd_read(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) != sizeof(n))
		if (errno != EINTR)
			die("read of an eventfd: %s", strerror(errno));
	return n;
}
