// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * The runner of exo-vm-bench and exo-net-bench: clock, random numbers,
 * interleaved rounds, median and p99, the printed table.
 */
#define _GNU_SOURCE	/* program_invocation_short_name */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

size_t bench_page;

static char accel[16] = "unknown";
static char tag[48];
static uint64_t rng = 0x9e3779b97f4a7c15ull;	/* fixed: runs are repeatable */

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: FAILED: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void die_async(const char *msg, const void *addr)
{
	static const char hex[] = "0123456789abcdef";
	char buf[24] = " at 0x";
	uintptr_t a = (uintptr_t)addr;
	int i, n = 6;
	ssize_t ret;

	ret = write(2, program_invocation_short_name,
		    strlen(program_invocation_short_name));
	ret = write(2, ": FAILED: ", 10);
	ret = write(2, msg, strlen(msg));
	for (i = (int)sizeof(a) * 2 - 1; i >= 0; i--)
		buf[n++] = hex[(a >> (i * 4)) & 0xf];
	buf[n++] = '\n';
	ret = write(2, buf, n);
	(void)ret;
	_exit(1);
}

/* The value of @key (e.g. "exo.accel=") on the kernel command line. */
const char *bench_cmdline(const char *key)
{
	static char line[4096];
	char *tok, *save = NULL;
	ssize_t n;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	line[n] = '\0';
	for (tok = strtok_r(line, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strncmp(tok, key, strlen(key)))
			return tok + strlen(key);
	return NULL;
}

/* The accelerator the VM runs under, from exo.accel= (scripts/vm.sh). */
static void read_accel(void)
{
	const char *v = bench_cmdline("exo.accel=");
	int i;

	if (!v)
		return;
	snprintf(accel, sizeof(accel), "%s", v);
	for (i = 0; accel[i]; i++)
		if (accel[i] >= 'a' && accel[i] <= 'z')
			accel[i] -= 'a' - 'A';
}

/*
 * What every row's figures are tagged with: the accelerator and the
 * kernel series ("TCG, 6.12"), since exo is measured on more than one.
 */
static void read_tag(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		snprintf(tag, sizeof(tag), "%s, kernel unknown", accel);
	else
		snprintf(tag, sizeof(tag), "%s, %u.%u", accel, major, minor);
}

void bench_init(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (pg <= 0)
		die("sysconf(_SC_PAGESIZE): %s", strerror(errno));
	bench_page = pg;
	read_accel();
	read_tag();
}

/*
 * Line-buffered output, bench_init(), and the round-count scale: the one
 * argument, else exo.bench_scale= on the kernel command line, else 1.
 * Exits with a usage message (status 2) on a bad one.
 */
double bench_start(int argc, char **argv)
{
	const char *arg;
	double scale = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_init();
	arg = argc == 2 ? argv[1] : bench_cmdline("exo.bench_scale=");
	if (argc > 2 || (arg && (scale = strtod(arg, NULL)) <= 0)) {
		fprintf(stderr, "usage: %s [SCALE]\n", argv[0]);
		exit(2);
	}
	return scale;
}

const char *bench_accel(void)
{
	return accel;
}

const char *bench_tag(void)
{
	return tag;
}

uint64_t bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* xorshift64*: cheap, and good enough to pick pages. */
uint64_t bench_rand(uint64_t below)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 0x2545f4914f6cdd1dull) % below;
}

void bench_shuffle(unsigned int *v, unsigned int n)
{
	unsigned int i, j, t;

	for (i = 0; i < n; i++)
		v[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = bench_rand(i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat2 {
	double median, p99;
};

static struct stat2 stats(double *s, unsigned int n)
{
	struct stat2 st;
	unsigned int k;

	qsort(s, n, sizeof(*s), cmp_double);
	st.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	k = (n * 99 + 99) / 100;	/* nearest rank: ceil(0.99 n) */
	st.p99 = s[k - 1];
	return st;
}

static const char *us(double ns, char *buf, size_t len)
{
	double u = ns / 1000;

	snprintf(buf, len, u < 10 ? "%.2fus" : u < 1000 ? "%.1fus" : "%.0fus",
		 u);
	return buf;
}

/* Two decimals, or two significant digits below 0.1 (never "0.00"). */
static const char *ratio(double r, char *buf, size_t len)
{
	snprintf(buf, len, r < 0.1 ? "%.2g" : "%.2f", r);
	return buf;
}

static void print_out(struct bench_row *row, unsigned int o)
{
	struct stat2 st[BENCH_MAX_COLS];
	char a[32], b[32];
	unsigned int i;

	printf("%-13s", row->names[o]);
	for (i = 0; i < BENCH_MAX_COLS && row->cols[i].name; i++) {
		struct bench_col *c = &row->cols[i];

		printf("%s%s ", i ? " | " : " ", c->name);
		if (c->skipped) {
			printf("skipped");
			continue;
		}
		st[i] = stats(c->samples[o], row->reps);
		printf("median %s p99 %s", us(st[i].median, a, sizeof(a)),
		       us(st[i].p99, b, sizeof(b)));
	}
	printf(" | ratio ");
	if (row->cols[1].skipped)
		printf("n/a");
	else
		printf("%s", ratio(st[0].median / st[1].median, a, sizeof(a)));
	for (i = 2; i < BENCH_MAX_COLS && row->cols[i].name; i++)
		if (!row->cols[i].skipped)
			printf(", vs %s %s", row->cols[i].name,
			       ratio(st[0].median / st[i].median, a,
				     sizeof(a)));
	printf(" (%s)\n", tag);
}

void bench_run(struct bench_row *row, unsigned int warmup)
{
	struct bench_col *c;
	unsigned int i, n = 0, o;
	double out[BENCH_MAX_OUT];
	long r;
	uint64_t t0 = bench_now();

	for (i = 0; i < BENCH_MAX_COLS && row->cols[i].name; i++) {
		c = &row->cols[i];
		c->skipped = c->setup ? c->setup(c) : NULL;
		if (c->skipped)
			printf("# %s: %s skipped: %s\n", row->names[0],
			       c->name, c->skipped);
		for (o = 0; o < row->nout; o++) {
			c->samples[o] = calloc(row->reps, sizeof(double));
			if (!c->samples[o])
				die("out of memory");
		}
		n++;
	}
	/*
	 * Forwards on even rounds, backwards on odd: no column always first.
	 * Without exo's column there is nothing to compare.
	 */
	for (r = row->cols[0].skipped ? (long)row->reps : -(long)warmup;
	     r < (long)row->reps; r++) {
		for (i = 0; i < n; i++) {
			c = &row->cols[r & 1 ? n - 1 - i : i];
			if (c->skipped)
				continue;
			c->trial(c, out);
			if (r < 0)
				continue;
			for (o = 0; o < row->nout; o++)
				c->samples[o][r] = out[o];
		}
	}

	for (o = 0; o < row->nout; o++) {
		if (row->cols[0].skipped)
			printf("%-13s skipped (%s)\n", row->names[o], tag);
		else
			print_out(row, o);
	}
	for (i = 0; i < n; i++) {
		c = &row->cols[i];
		if (!c->skipped && c->teardown)
			c->teardown(c);
		for (o = 0; o < row->nout; o++)
			free(c->samples[o]);
	}
	printf("#   (%u rounds + %u warm-up, %.1fs)\n", row->reps, warmup,
	       (bench_now() - t0) / 1e9);
	fflush(stdout);
}
