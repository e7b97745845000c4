// SPDX-License-Identifier: GPL-2.0
/*
 * exoctl: what exo's contexts hold, read from the module's tables.
 *
 *   exoctl contexts|frames|vm|revocations|claims|handlers|stats
 *          [--ctx ID] [--json]
 *   exoctl revoke CTX N [--timeout MS] [--abort] [--json]
 *
 * The tables are /sys/kernel/debug/exo/<table> (module/exo_debugfs.c): a
 * header line naming the columns, then one row per object, fields
 * separated by white space. The counters of "stats" are the module's
 * sysfs files in /sys/class/misc/exo/. Columns are found by name, so a
 * module that adds columns does not break this program; one that lacks a
 * column it needs is a format error. Documentation/exoctl.rst has the
 * columns, the JSON schema and the exit codes; exoctl(8) the usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/exo.h>

/* The JSON schema's version (Documentation/exoctl.rst). */
#define EXOCTL_JSON_VERSION	1

/* Exit codes (exoctl(8)). */
#define EX_OK		0
#define EX_FAIL		1	/* the module's interface: missing, refused */
#define EX_USAGE	2
#define EX_FORMAT	3	/* a table this exoctl cannot read */

#define DEBUGFS_DIR	"/sys/kernel/debug/exo"
#define SYSFS_DIR	"/sys/class/misc/exo"
#define DEV_PATH	"/dev/exo"

/*
 * Column types. In the table: 'u' decimal unsigned, 'i' decimal signed,
 * 'h' hexadecimal (0x...), 'b' 0 or 1, 'x' hexadecimal kept as a string
 * (capabilities and addresses, which may not fit a JSON number exactly),
 * 's' a word.
 */
struct col {
	const char *name;
	char type;
};

struct table {
	const char *name;
	const char *ctx_col;	/* the column --ctx filters on, or NULL */
	const struct col *cols;
};

static const struct col contexts_cols[] = {
	{ "id", 'u' }, { "pid", 'i' }, { "comm", 's' }, { "uid", 'u' },
	{ "frames", 'u' }, { "quota", 'u' }, { "caps", 'u' },
	{ "granted", 'u' }, { "critical", 'u' }, { "bindings", 'u' },
	{ "allocs", 'u' }, { "frees", 'u' }, { "mode", 's' },
	{ "refills", 'u' }, { "upcalls", 'u' }, { "repo", 'u' },
	{ "owed", 'u' }, { "state", 's' }, { NULL, 0 },
};

static const struct col frames_cols[] = {
	{ "ctx", 'u' }, { "cap", 'x' }, { "index", 'u' }, { "pfn", 'h' },
	{ "order", 'u' }, { "how", 's' }, { "critical", 'b' },
	{ "pinned", 'b' }, { "bindings", 'u' }, { "src", 'u' },
	{ "grants", 'u' }, { NULL, 0 },
};

static const struct col vm_cols[] = {
	{ "ctx", 'u' }, { "va", 'x' }, { "cap", 'x' }, { "pfn", 'h' },
	{ "prot", 's' }, { "dirty", 'b' }, { NULL, 0 },
};

static const struct col revocations_cols[] = {
	{ "ctx", 'u' }, { "id", 'u' }, { "owed", 'u' }, { "state", 's' },
	{ "deadline_ms", 'u' }, { "urgent_ms", 'u' }, { "requested", 'u' },
	{ "returned", 'u' }, { "repossessed", 'u' }, { NULL, 0 },
};

static const struct col claims_cols[] = {
	{ "ctx", 'u' }, { "claim", 'u' }, { "ifindex", 'i' },
	{ "ethertype", 'h' }, { "proto", 'u' }, { "port", 'u' },
	{ "handler", 'u' }, { "packets", 'u' }, { "delivered", 'u' },
	{ "dropped", 'u' }, { "replied", 'u' }, { "passed", 'u' },
	{ "ring_full", 'u' }, { "bad_verdict", 'u' }, { NULL, 0 },
};

static const struct col handlers_cols[] = {
	{ "ctx", 'u' }, { "claim", 'u' }, { "ifindex", 'i' },
	{ "prog_id", 'u' }, { "tag", 's' }, { "name", 's' }, { NULL, 0 },
};

static const struct col stats_cols[] = {
	{ "counter", 's' }, { "value", 'u' }, { NULL, 0 },
};

static const struct table tables[] = {
	{ "contexts", "id", contexts_cols },
	{ "frames", "ctx", frames_cols },
	{ "vm", "ctx", vm_cols },
	{ "revocations", "ctx", revocations_cols },
	{ "claims", "ctx", claims_cols },
	{ "handlers", "ctx", handlers_cols },
	{ "stats", NULL, stats_cols },
	{ NULL, NULL, NULL },
};

/* The module-wide counters of "stats", each a file in SYSFS_DIR. */
static const char *const counters[] = {
	"contexts", "frames", "frames_allocated", "frames_freed", "threads",
	"pool_frames", "pool_free", "repossessed", "revoke_requests",
	"shrinker_requested", NULL,
};

#define MAX_COLS	64

/* One row: its fields, in the order of the table's known columns. */
struct row {
	char *f[MAX_COLS];
};

struct rows {
	struct row *v;
	size_t nr, cap;
};

static const char *debugfs_dir = DEBUGFS_DIR;
static const char *sysfs_dir = SYSFS_DIR;
static const char *dev_path = DEV_PATH;

static void __attribute__((format(printf, 2, 3), noreturn))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("exoctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die(EX_FAIL, "out of memory");
	return p;
}

static void __attribute__((noreturn)) usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: exoctl contexts|frames|vm|revocations|claims|handlers|stats\n"
		"              [--ctx ID] [--json]\n"
		"       exoctl revoke CTX N [--timeout MS] [--abort] [--json]\n"
		"       exoctl --help | --version\n");
	exit(code);
}

/* Why a table cannot be opened, in words a user can act on. */
static void __attribute__((noreturn)) open_failed(const char *path, int err)
{
	struct stat st;

	if (err == ENOENT && stat(debugfs_dir, &st))
		die(EX_FAIL, "%s not found: is exo.ko loaded and debugfs mounted?",
		    debugfs_dir);
	if (err == EACCES || err == EPERM)
		die(EX_FAIL, "%s: %s (the tables are root's)", path,
		    strerror(err));
	die(EX_FAIL, "%s: %s", path, strerror(err));
}

static bool valid_field(const char *s, char type)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	switch (type) {
	case 'u':
		if (*s == '-')
			return false;
		strtoull(s, &end, 10);
		break;
	case 'i':
		strtoll(s, &end, 10);
		break;
	case 'h':
	case 'x':
		if (strncmp(s, "0x", 2))
			return false;
		strtoull(s, &end, 16);
		break;
	case 'b':
		return !strcmp(s, "0") || !strcmp(s, "1");
	default:
		return true;
	}
	return !errno && !*end;
}

static void add_row(struct rows *rows, const struct row *r)
{
	if (rows->nr == rows->cap) {
		rows->cap = rows->cap ? rows->cap * 2 : 64;
		rows->v = xrealloc(rows->v, rows->cap * sizeof(*rows->v));
	}
	rows->v[rows->nr++] = *r;
}

/* Split @line at white space into at most @max words; return the count. */
static int split(char *line, char **w, int max)
{
	char *save, *t;
	int n = 0;

	for (t = strtok_r(line, " \t\n", &save); t;
	     t = strtok_r(NULL, " \t\n", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

/* Read debugfs table @t, keeping the rows whose context is @ctx (or all). */
static void read_table(const struct table *t, const char *ctx,
		       struct rows *rows)
{
	char path[4096], *line = NULL, *w[MAX_COLS];
	int map[MAX_COLS], ncols, nc = 0, n, i, j, lineno = 0;
	int ctx_at = -1;
	size_t len = 0;
	struct row r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", debugfs_dir, t->name);
	f = fopen(path, "re");
	if (!f)
		open_failed(path, errno);
	if (getline(&line, &len, f) < 0)
		die(EX_FORMAT, "%s: no header line", path);
	lineno = 1;
	ncols = split(line, w, MAX_COLS);
	if (ncols > MAX_COLS)
		die(EX_FORMAT, "%s: more than %d columns", path, MAX_COLS);
	/* Each known column's place in the file's rows. */
	for (i = 0; t->cols[i].name; i++, nc++) {
		for (j = 0; j < ncols; j++)
			if (!strcmp(w[j], t->cols[i].name))
				break;
		if (j == ncols)
			die(EX_FORMAT, "%s has no column \"%s\": exoctl and exo.ko are of different versions",
			    path, t->cols[i].name);
		map[i] = j;
		if (t->ctx_col && !strcmp(t->cols[i].name, t->ctx_col))
			ctx_at = i;
	}
	while (getline(&line, &len, f) >= 0) {
		lineno++;
		n = split(line, w, MAX_COLS);
		if (n == 0)
			continue;
		if (n != ncols)
			die(EX_FORMAT, "%s:%d: %d fields, the header names %d",
			    path, lineno, n, ncols);
		for (i = 0; i < nc; i++) {
			if (!valid_field(w[map[i]], t->cols[i].type))
				die(EX_FORMAT, "%s:%d: \"%s\" is not a valid %s",
				    path, lineno, w[map[i]], t->cols[i].name);
			r.f[i] = w[map[i]];
		}
		if (ctx && ctx_at >= 0 &&
		    strtoull(r.f[ctx_at], NULL, 10) != strtoull(ctx, NULL, 10))
			continue;
		for (i = 0; i < nc; i++) {
			r.f[i] = strdup(r.f[i]);
			if (!r.f[i])
				die(EX_FAIL, "out of memory");
		}
		add_row(rows, &r);
	}
	if (ferror(f))
		die(EX_FAIL, "%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
}

/* The module-wide counters from sysfs, as rows of "counter value". */
static void read_stats(struct rows *rows)
{
	char path[4096], buf[64];
	struct row r;
	struct stat st;
	FILE *f;
	int i;

	if (stat(sysfs_dir, &st))
		die(EX_FAIL, "%s not found: is exo.ko loaded?", sysfs_dir);
	for (i = 0; counters[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", sysfs_dir, counters[i]);
		f = fopen(path, "re");
		if (!f)
			die(errno == ENOENT ? EX_FORMAT : EX_FAIL, "%s: %s",
			    path, strerror(errno));
		if (!fgets(buf, sizeof(buf), f))
			die(EX_FAIL, "%s: cannot read it", path);
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		if (!valid_field(buf, 'u'))
			die(EX_FORMAT, "%s: \"%s\" is not a count", path, buf);
		r.f[0] = strdup(counters[i]);
		r.f[1] = strdup(buf);
		if (!r.f[0] || !r.f[1])
			die(EX_FAIL, "out of memory");
		add_row(rows, &r);
	}
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_field(const char *s, char type)
{
	switch (type) {
	case 'u':
	case 'i':
		fputs(s, stdout);
		break;
	case 'h':
		printf("%llu", strtoull(s, NULL, 16));
		break;
	case 'b':
		fputs(*s == '1' ? "true" : "false", stdout);
		break;
	default:
		json_string(s);
	}
}

/*
 * {"version":1,"table":"frames","rows":[{"ctx":1,...},...]}: one object
 * per row, its members the table's columns in order.
 */
static void print_json(const struct table *t, const struct rows *rows)
{
	size_t r;
	int i;

	printf("{\"version\":%d,\"table\":", EXOCTL_JSON_VERSION);
	json_string(t->name);
	printf(",\"rows\":[");
	for (r = 0; r < rows->nr; r++) {
		printf("%s\n{", r ? "," : "");
		for (i = 0; t->cols[i].name; i++) {
			printf("%s\"%s\":", i ? "," : "", t->cols[i].name);
			json_field(rows->v[r].f[i], t->cols[i].type);
		}
		putchar('}');
	}
	printf("%s]}\n", rows->nr ? "\n" : "");
}

/* Aligned columns: numbers to the right, words to the left. */
static void print_text(const struct table *t, const struct rows *rows)
{
	int w[MAX_COLS], i, n;
	bool right;
	size_t r;

	for (i = 0; t->cols[i].name; i++)
		w[i] = strlen(t->cols[i].name);
	for (r = 0; r < rows->nr; r++)
		for (i = 0; t->cols[i].name; i++) {
			n = strlen(rows->v[r].f[i]);
			if (n > w[i])
				w[i] = n;
		}
	for (r = 0; r <= rows->nr; r++) {
		for (i = 0; t->cols[i].name; i++) {
			const char *s = r ? rows->v[r - 1].f[i] :
					    t->cols[i].name;
			bool last = !t->cols[i + 1].name;

			right = t->cols[i].type != 's';
			if (right)
				printf("%s%*s", i ? "  " : "", w[i], s);
			else
				printf("%s%-*s", i ? "  " : "", last ? 0 : w[i],
				       s);
		}
		putchar('\n');
	}
}

static uint64_t parse_u64(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-')
		die(EX_USAGE, "%s: \"%s\" is not a number", what, s);
	return v;
}

/* EXO_IOC_REVOKE through a context of exoctl's own. */
static int cmd_revoke(const char *ctx_s, const char *nr_s, const char *timeout_s,
		  bool abort_now, bool json)
{
	struct exo_revoke req = { .size = sizeof(req) };
	uint64_t ctx = parse_u64(ctx_s, "context");
	int fd;

	if (!ctx || ctx > UINT32_MAX)
		die(EX_USAGE, "context: \"%s\" is not a context id", ctx_s);
	req.ctx_id = ctx;
	req.nr = parse_u64(nr_s, "frames");
	if (!req.nr)
		die(EX_USAGE, "frames: at least 1");
	if (timeout_s) {
		uint64_t ms = parse_u64(timeout_s, "--timeout");

		if (!ms || ms > UINT32_MAX)
			die(EX_USAGE, "--timeout: 1 to %u ms", UINT32_MAX);
		req.timeout_ms = ms;
	}
	if (abort_now)
		req.flags = EXO_REVOKE_ABORT;
	fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(EX_FAIL, "%s: %s%s", dev_path, strerror(errno),
		    errno == ENOENT ? ": is exo.ko loaded?" : "");
	if (ioctl(fd, EXO_IOC_REVOKE, &req)) {
		int err = errno;

		switch (err) {
		case EPERM:
			die(EX_FAIL, "revoke: %s (needs CAP_SYS_ADMIN)",
			    strerror(err));
		case ESRCH:
			die(EX_FAIL, "revoke: no context %s", ctx_s);
		case ENODATA:
			die(EX_FAIL, "revoke: context %s holds no frame it does not already owe",
			    ctx_s);
		default:
			die(EX_FAIL, "revoke: %s", strerror(err));
		}
	}
	close(fd);
	if (json)
		printf("{\"version\":%d,\"table\":\"revoke\",\"rows\":[\n{\"ctx\":%u,\"nr\":%llu,\"id\":%llu,\"abort\":%s}\n]}\n",
		       EXOCTL_JSON_VERSION, req.ctx_id,
		       (unsigned long long)req.nr, (unsigned long long)req.id,
		       abort_now ? "true" : "false");
	else
		printf("request %llu: context %u asked for %llu frames%s\n",
		       (unsigned long long)req.id, req.ctx_id,
		       (unsigned long long)req.nr,
		       abort_now ? ", taken now" : "");
	return EX_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctx", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "abort", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ctx = NULL, *timeout = NULL, *cmd, *env;
	bool json = false, abort_now = false;
	struct rows rows = { 0 };
	const struct table *t;
	int c, nargs;

	/* Options anywhere: getopt moves the words to the end. */
	while ((c = getopt_long(argc, argv, "c:jt:ahV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			timeout = optarg;
			break;
		case 'a':
			abort_now = true;
			break;
		case 'h':
			usage(EX_OK);
		case 'V':
			printf("exoctl %s (JSON schema %d)\n", EXO_VERSION,
			       EXOCTL_JSON_VERSION);
			return EX_OK;
		default:
			usage(EX_USAGE);
		}
	}
	if (optind >= argc)
		usage(EX_USAGE);
	cmd = argv[optind++];
	nargs = argc - optind;
	env = getenv("EXOCTL_DEBUGFS");
	if (env && *env)
		debugfs_dir = env;
	env = getenv("EXOCTL_SYSFS");
	if (env && *env)
		sysfs_dir = env;
	env = getenv("EXOCTL_DEV");
	if (env && *env)
		dev_path = env;

	if (!strcmp(cmd, "revoke")) {
		if (nargs != 2 || ctx)
			usage(EX_USAGE);
		return cmd_revoke(argv[optind], argv[optind + 1], timeout,
			      abort_now, json);
	}
	for (t = tables; t->name; t++)
		if (!strcmp(t->name, cmd))
			break;
	if (!t->name) {
		fprintf(stderr, "exoctl: unknown command \"%s\"\n", cmd);
		usage(EX_USAGE);
	}
	if (nargs || timeout || abort_now)
		usage(EX_USAGE);
	if (ctx) {
		parse_u64(ctx, "--ctx");
		if (!t->ctx_col)
			die(EX_USAGE, "%s is module-wide: no --ctx", t->name);
	}
	if (t->ctx_col)
		read_table(t, ctx, &rows);
	else
		read_stats(&rows);
	if (json)
		print_json(t, &rows);
	else
		print_text(t, &rows);
	if (fflush(stdout) || ferror(stdout))
		die(EX_FAIL, "writing the output: %s", strerror(errno));
	return EX_OK;
}
