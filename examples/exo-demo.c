// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-demo: a tiny library OS over /dev/exo.
 *
 * Walks through what the exokernel offers, printing each step: the
 * handshake, frames by any/name/colour/run, capabilities that mean nothing
 * in another context, the read-only frame table, the counters, and a clean
 * release. Exits 1 on anything unexpected, and ends with "exo-demo: OK".
 * Needs root (or access to /dev/exo) and the exo module loaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libexo.h>

#define DEMO_COLOURS	8	/* colours to allocate one frame of */
#define DEMO_ORDER	4	/* contiguous run: 16 frames */
#define MAX_HELD	(2 + DEMO_COLOURS)
/* 16 MiB of our memory: it spans several 2 MiB pageblocks. */
#define MEM_PAGES	4096
#define MEM_TRIES	16

#define NR_FRAMES(order)	((uint64_t)1 << (order))

struct held {
	struct exo_frame f;
	const char *what;
};

static struct held held[MAX_HELD];
static unsigned int nr_held;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "exo-demo: FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* Exit ends the context, and the module takes every frame back. */
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret < 0)
		die("%s: %s", what, strerror(-ret));
}

/* Names for the errnos the demo expects; strerror() text is for humans. */
static const char *errname(int err)
{
	switch (err) {
	case 0:		return "success";
	case ENOENT:	return "ENOENT";
	case EBUSY:	return "EBUSY";
	case EINVAL:	return "EINVAL";
	case EDQUOT:	return "EDQUOT";
	case ENOMEM:	return "ENOMEM";
	case EIO:	return "EIO";
	case EAGAIN:	return "EAGAIN";
	case ERANGE:	return "ERANGE";
	default:	return strerror(err);
	}
}

static void expect_err(int ret, int err, const char *what)
{
	if (ret != -err)
		die("%s: got %s, expected %s", what, errname(-ret),
		    errname(err));
	printf("  %s -> %s, as it must\n", what, errname(err));
}

/* The PFN behind a virtual address, from /proc/self/pagemap (root only). */
static int user_pfn(const void *addr, uint64_t *pfn)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t ent;
	ssize_t n;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &ent, sizeof(ent),
		  (off_t)((uintptr_t)addr / page * sizeof(ent)));
	close(fd);
	if (n != sizeof(ent))
		return n < 0 ? -errno : -EIO;
	if (!(ent >> 63) || !(ent & ((1ULL << 55) - 1)))
		return -ENXIO;	/* not present, or PFNs hidden */
	*pfn = ent & ((1ULL << 55) - 1);
	return 0;
}

static void hold(const struct exo_frame *f, const char *what)
{
	if (nr_held == MAX_HELD)
		die("internal: too many frames held");
	held[nr_held].f = *f;
	held[nr_held].what = what;
	nr_held++;
}

static uint64_t held_frames(void)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < nr_held; i++)
		n += NR_FRAMES(held[i].f.order);
	return n;
}

static void print_cap(exo_cap_t cap)
{
	printf("cap %#" PRIx64 " (index %" PRIu32 ", gen %" PRIu32 ")",
	       cap, EXO_CAP_INDEX(cap), EXO_CAP_GEN(cap));
}

static void step(const char *title)
{
	static int n;

	printf("\n[%d] %s\n", ++n, title);
}

static const struct {
	uint64_t bit;
	const char *name;
} features[] = {
	{ EXO_FEAT_FRAMES,	 "FRAMES" },
	{ EXO_FEAT_FRAME_PFN,	 "FRAME_PFN" },
	{ EXO_FEAT_FRAME_COLOUR, "FRAME_COLOUR" },
	{ EXO_FEAT_FRAME_CONTIG, "FRAME_CONTIG" },
	{ EXO_FEAT_FTABLE,	 "FTABLE" },
	{ EXO_FEAT_MEMCG,	 "MEMCG" },
};

static const char *const cmd_names[] = {
	[EXO_CMD_API - EXO_CMD_BASE]		= "API",
	[EXO_CMD_CTX_INFO - EXO_CMD_BASE]	= "CTX_INFO",
	[EXO_CMD_FRAME_ALLOC - EXO_CMD_BASE]	= "FRAME_ALLOC",
	[EXO_CMD_FRAME_FREE - EXO_CMD_BASE]	= "FRAME_FREE",
};

/* Features every step below relies on. */
#define DEMO_FEATURES	(EXO_FEAT_FRAMES | EXO_FEAT_FRAME_PFN | \
			 EXO_FEAT_FRAME_COLOUR | EXO_FEAT_FRAME_CONTIG | \
			 EXO_FEAT_FTABLE)

static void print_api(const struct exo_api *api)
{
	unsigned int i;

	printf("  module speaks API version %" PRIu32 " (we speak %d)\n",
	       api->api, EXO_API_VERSION);
	printf("  features   0x%" PRIx64 ":", (uint64_t)api->features);
	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (api->features & features[i].bit)
			printf(" %s", features[i].name);
	printf("\n  ioctls     0x%" PRIx64 ":", (uint64_t)api->ioctls);
	for (i = 0; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (api->ioctls & ((uint64_t)1 << i))
			printf(" %s", cmd_names[i]);
	printf("\n  page size  %" PRIu32 " bytes\n", api->page_size);
	printf("  colours    %" PRIu32 " (colour = pfn %% %" PRIu32 ")\n",
	       api->nr_colours, api->nr_colours);
	printf("  max order  %" PRIu32 " (runs of up to %" PRIu64
	       " frames)\n",
	       api->max_order,
	       api->max_order < 64 ? NR_FRAMES(api->max_order) : 0);
	printf("  quota      %" PRIu32 " frames\n", api->frame_quota);
	printf("  ctx id     %" PRIu32 "\n", api->ctx_id);
	printf("  ftable     %" PRIu32 " entries, %" PRIu64 " bytes mapped\n",
	       api->ftable_entries, (uint64_t)api->ftable_size);
}

static void ctx_info(struct exo *exo, struct exo_ctx_info *info, int verbose)
{
	check(exo_ctx_info(exo, info), "exo_ctx_info");
	if (!verbose)
		return;
	printf("  ctx id %" PRIu32 ": quota %" PRIu32 ", frames %" PRIu64
	       ", caps %" PRIu64 ", allocs %" PRIu64 ", frees %" PRIu64 "\n",
	       info->ctx_id, info->frame_quota, (uint64_t)info->frames,
	       (uint64_t)info->caps, (uint64_t)info->allocs,
	       (uint64_t)info->frees);
}

/* The module updates this word; read it once, as the module wrote it. */
static uint64_t header_frames(const struct exo_ftable_header *h)
{
	return *(const volatile __u64 *)&h->frames;
}

static const char *how_name(uint8_t how)
{
	switch (how) {
	case EXO_ALLOC_ANY:	return "ANY";
	case EXO_ALLOC_PFN:	return "PFN";
	case EXO_ALLOC_COLOUR:	return "COLOUR";
	case EXO_ALLOC_CONTIG:	return "CONTIG";
	default:		return "?";
	}
}

/*
 * Walk the whole mapped frame table: plain loads, no system call. Returns
 * the number of owned entries and adds up the frames they cover.
 */
static unsigned int dump_ftable(struct exo *exo, uint64_t *frames, int print)
{
	const struct exo_ftable_header *h = exo_ftable(exo);
	const struct exo_api *api = exo_api(exo);
	struct exo_ftable_entry e;
	unsigned int owned = 0;
	uint32_t i;

	*frames = 0;
	if (print)
		printf("  %6s %6s %6s %18s %6s %7s %7s\n", "index", "gen",
		       "state", "pfn", "order", "colour", "how");
	for (i = 0; i < h->nr_entries; i++) {
		check(exo_ftable_read(exo, i, &e), "exo_ftable_read");
		if (e.state != EXO_FRAME_OWNED)
			continue;
		if (e.owner != api->ctx_id)
			die("ftable entry %" PRIu32 " owned by ctx %" PRIu32
			    ", not by us (%" PRIu32 ")", i, e.owner,
			    api->ctx_id);
		owned++;
		*frames += NR_FRAMES(e.order);
		if (print)
			printf("  %6" PRIu32 " %6" PRIu32 " %6s %#18" PRIx64
			       " %6u %7" PRIu32 " %7s\n", i, e.gen, "OWNED",
			       (uint64_t)e.pfn, e.order, e.colour,
			       how_name(e.how));
	}
	if (print)
		printf("  (%u entries OWNED, the other %" PRIu32 " FREE)\n",
		       owned, h->nr_entries - owned);
	return owned;
}

/*
 * Ask for the frame under one of our own anonymous pages. Linux migrates
 * the page away and exo gets the frame, unless something unmovable shares
 * the frame's 2 MiB pageblock; so try a page in each of several pageblocks.
 * Linux refusing all of them is a property of this boot, not an error.
 */
static void migrate_demo(struct exo *exo, long page)
{
	uint64_t pfn, moved, tried[MEM_TRIES];
	int ntried = 0, ret = -EBUSY, k;
	struct exo_frame got;
	size_t i;
	char *mem;

	mem = mmap(NULL, MEM_PAGES * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(mem, 0x5a, MEM_PAGES * page);
	for (i = 0; i < MEM_PAGES && ntried < MEM_TRIES; i++) {
		check(user_pfn(mem + i * page, &pfn),
		      "reading /proc/self/pagemap");
		for (k = 0; k < ntried && tried[k] != pfn >> 9; k++)
			;
		if (k < ntried)
			continue;
		tried[ntried++] = pfn >> 9;
		ret = exo_frame_alloc_pfn(exo, pfn, &got);
		if (ret != -EBUSY)
			break;
		printf("  pfn %#" PRIx64 " (our page at %p): Linux cannot give it up (EBUSY)\n",
		       pfn, (void *)(mem + i * page));
	}
	if (ret == -EBUSY) {
		printf("  Linux refused the frames of all %d pageblocks tried in this boot\n",
		       ntried);
		munmap(mem, MEM_PAGES * page);
		return;
	}
	check(ret, "exo_frame_alloc_pfn");
	check(user_pfn(mem + i * page, &moved), "reading /proc/self/pagemap");
	printf("  our page at %p sat in pfn %#" PRIx64 "; exo now owns that frame, ",
	       (void *)(mem + i * page), pfn);
	print_cap(got.cap);
	printf("\n");
	if (got.pfn != pfn || moved == pfn || mem[i * page + 100] != 0x5a)
		die("our page did not move intact (pfn %#" PRIx64 ", byte %#x)",
		    moved, mem[i * page + 100]);
	printf("  Linux migrated our page to pfn %#" PRIx64 ", contents intact\n",
	       moved);
	check(exo_frame_free(exo, got.cap), "exo_frame_free");
	munmap(mem, MEM_PAGES * page);
}

int main(void)
{
	struct exo_frame any, named, f, run;
	struct exo_ctx_info info, info2;
	const struct exo_ftable_header *h;
	const struct exo_api *api;
	struct exo *exo, *other;
	uint32_t order, ncol, c;
	uint64_t frames, want;
	unsigned int i;
	uint64_t want_pfn;
	exo_cap_t old;
	long page = sysconf(_SC_PAGESIZE);
	int ret;

	/* Keep stdout and stderr in order when the console is a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("exo-demo: a library OS over %s\n", EXO_DEFAULT_DEVICE);

	step("handshake: open " EXO_DEFAULT_DEVICE
	     ", EXO_IOC_API, map the frame table");
	ret = exo_open(&exo);
	if (ret == -ENOENT || ret == -ENXIO || ret == -ENODEV)
		die("exo_open(%s): %s (is exo.ko loaded?)", EXO_DEFAULT_DEVICE,
		    strerror(-ret));
	check(ret, "exo_open(" EXO_DEFAULT_DEVICE ")");
	api = exo_api(exo);
	h = exo_ftable(exo);
	print_api(api);
	if ((api->features & DEMO_FEATURES) != DEMO_FEATURES)
		die("module lacks features 0x%" PRIx64 " this demo needs",
		    (uint64_t)(DEMO_FEATURES & ~api->features));
	if (!api->nr_colours)
		die("module reports 0 cache colours");

	ncol = api->nr_colours < DEMO_COLOURS ? api->nr_colours : DEMO_COLOURS;
	order = DEMO_ORDER;
	if (api->max_order < order) {
		printf("  note: max order %" PRIu32 " < %d, using order %"
		       PRIu32 " for the contiguous run\n", api->max_order,
		       DEMO_ORDER, api->max_order);
		order = api->max_order;
	}
	/* At the peak we hold: the named frame, the colours, the run. */
	want = 1 + ncol + NR_FRAMES(order);
	if (api->frame_quota < want)
		die("frame quota %" PRIu32 " < %" PRIu64 " frames this demo "
		    "holds; raise the frame_quota module parameter",
		    api->frame_quota, want);
	if (api->ftable_entries < 1 + 2 + ncol)
		die("frame table of %" PRIu32 " entries is too small; raise "
		    "the max_caps module parameter", api->ftable_entries);

	step("allocate any one frame (EXO_ALLOC_ANY)");
	check(exo_frame_alloc(exo, &any), "exo_frame_alloc");
	printf("  got pfn %#" PRIx64 " (colour %" PRIu32 "), ", any.pfn,
	       any.colour);
	print_cap(any.cap);
	printf("\n");

	step("free it: its capability goes stale");
	check(exo_frame_free(exo, any.cap), "exo_frame_free");
	printf("  freed ");
	print_cap(any.cap);
	printf(": pfn %#" PRIx64 " went back to Linux\n", any.pfn);

	expect_err(exo_ftable_lookup(exo, any.cap, NULL), ENOENT,
		   "the old cap is stale: exo_ftable_lookup(old cap)");
	expect_err(exo_frame_free(exo, any.cap), ENOENT,
		   "exo_frame_free(old cap)");

	step("name a frame of exo's own region, free it, name it again (EXO_ALLOC_PFN)");
	if (!api->pool_frames)
		die("exo has no region of its own (pool_order=0?)");
	printf("  exo's region: %" PRIu32 " frames from pfn %#" PRIx64 "\n",
	       api->pool_frames, (uint64_t)api->pool_pfn);
	want_pfn = api->pool_pfn + api->pool_frames / 2;
	check(exo_frame_alloc_pfn(exo, want_pfn, &named), "exo_frame_alloc_pfn");
	printf("  asked for pfn %#" PRIx64 ", got pfn %#" PRIx64 ", ",
	       want_pfn, named.pfn);
	print_cap(named.cap);
	printf("\n");
	if (named.pfn != want_pfn || named.order != 0)
		die("asked for pfn %#" PRIx64 " by name, got %#" PRIx64
		    " order %" PRIu32, want_pfn, named.pfn, named.order);
	old = named.cap;
	check(exo_frame_free(exo, named.cap), "exo_frame_free");
	check(exo_frame_alloc_pfn(exo, want_pfn, &named), "exo_frame_alloc_pfn");
	printf("  freed it and named it again: pfn %#" PRIx64 ", ", named.pfn);
	print_cap(named.cap);
	printf("\n");
	if (named.pfn != want_pfn || named.cap == old)
		die("the second naming gave pfn %#" PRIx64 " cap 0x%016" PRIx64,
		    named.pfn, named.cap);
	hold(&named, "named");

	step("take a frame from under our own memory, by name (EXO_ALLOC_PFN)");
	migrate_demo(exo, page);


	step("a second context cannot touch the first one's frame");
	check(exo_open(&other), "exo_open (second context)");
	printf("  opened context %" PRIu32 " (ours is %" PRIu32 ")\n",
	       exo_api(other)->ctx_id, api->ctx_id);
	if (exo_api(other)->ctx_id == api->ctx_id)
		die("two contexts share id %" PRIu32, api->ctx_id);
	ret = exo_frame_alloc_pfn(other, named.pfn, &f);
	if (ret == 0) {
		exo_frame_free(other, f.cap);
		die("context %" PRIu32 " got pfn %#" PRIx64 ", which context %"
		    PRIu32 " owns", exo_api(other)->ctx_id, named.pfn,
		    api->ctx_id);
	}
	printf("  context %" PRIu32 " asks for pfn %#" PRIx64 " by name:\n",
	       exo_api(other)->ctx_id, named.pfn);
	expect_err(ret, EBUSY, "exo_frame_alloc_pfn(other, pfn)");
	printf("  context %" PRIu32 " presents context %" PRIu32 "'s ",
	       exo_api(other)->ctx_id, api->ctx_id);
	print_cap(named.cap);
	printf(":\n");
	expect_err(exo_frame_free(other, named.cap), ENOENT,
		   "exo_frame_free(other, cap)");
	expect_err(exo_ftable_lookup(other, named.cap, NULL), ENOENT,
		   "exo_ftable_lookup(other, cap)");
	ctx_info(other, &info2, 0);
	if (info2.frames || info2.caps)
		die("second context holds %" PRIu64 " frames, %" PRIu64
		    " caps; expected none", (uint64_t)info2.frames,
		    (uint64_t)info2.caps);
	exo_close(other);
	printf("  closed context; it never held a frame\n");

	step("one frame of each cache colour (EXO_ALLOC_COLOUR)");
	for (c = 0; c < ncol; c++) {
		char what[64];

		snprintf(what, sizeof(what), "exo_frame_alloc_colour(%" PRIu32
			 ")", c);
		check(exo_frame_alloc_colour(exo, c, &f), what);
		hold(&f, "colour");
		printf("  colour %2" PRIu32 ": pfn %#" PRIx64 ", pfn %% %"
		       PRIu32 " = %2" PRIu64 ", ", c, f.pfn, api->nr_colours,
		       f.pfn % api->nr_colours);
		print_cap(f.cap);
		printf("\n");
		if (f.pfn % api->nr_colours != c || f.colour != c)
			die("asked for colour %" PRIu32 ", got pfn %#" PRIx64
			    " (colour %" PRIu32 ")", c, f.pfn, f.colour);
	}
	printf("  every pfn %% %" PRIu32 " equals its colour\n",
	       api->nr_colours);

	step("a contiguous, aligned run (EXO_ALLOC_CONTIG)");
	ctx_info(exo, &info, 0);
	frames = info.frames;
	check(exo_frame_alloc_contig(exo, order, &run),
	      "exo_frame_alloc_contig");
	hold(&run, "run");
	printf("  order %" PRIu32 ": one ", run.order);
	print_cap(run.cap);
	printf(" for %" PRIu64 " frames:\n ", NR_FRAMES(order));
	for (i = 0; i < 1u << order; i++)
		printf(" %#" PRIx64 "%s", run.pfn + i,
		       (i % 4 == 3 && i + 1 < 1u << order) ? "\n " : "");
	printf("\n");
	if (run.order != order)
		die("asked for order %" PRIu32 ", got %" PRIu32, order,
		    run.order);
	if (run.pfn & (NR_FRAMES(order) - 1))
		die("run at pfn %#" PRIx64 " is not aligned to %" PRIu64
		    " frames", run.pfn, NR_FRAMES(order));
	printf("  consecutive: pfn %#" PRIx64 " .. %#" PRIx64 "\n", run.pfn,
	       run.pfn + NR_FRAMES(order) - 1);
	printf("  aligned: pfn %#" PRIx64 " %% %" PRIu64 " = 0\n", run.pfn,
	       NR_FRAMES(order));
	ctx_info(exo, &info, 0);
	if (info.frames - frames != NR_FRAMES(order))
		die("run of order %" PRIu32 " added %" PRIu64 " frames to the "
		    "context, expected %" PRIu64, order,
		    (uint64_t)(info.frames - frames), NR_FRAMES(order));
	printf("  the context's frame count grew by %" PRIu64 "\n",
	       NR_FRAMES(order));

	step("the frame table, read from the mapping (no system call)");
	printf("  header: magic %#" PRIx32 ", version %" PRIu32 ", ctx %"
	       PRIu32 ", frames %" PRIu64 "\n", h->magic, h->version,
	       h->ctx_id, header_frames(h));
	printf("          %" PRIu32 " entries of %" PRIu32 " bytes from "
	       "offset %" PRIu32 "\n", h->nr_entries, h->entry_size,
	       h->entries_offset);
	i = dump_ftable(exo, &frames, 1);
	if (i != nr_held || frames != held_frames() ||
	    header_frames(h) != held_frames())
		die("frame table shows %u entries, %" PRIu64 " frames (header %"
		    PRIu64 "); we hold %u caps, %" PRIu64 " frames", i, frames,
		    header_frames(h), nr_held, held_frames());
	for (i = 0; i < nr_held; i++) {
		struct exo_ftable_entry e;
		const struct exo_frame *hf = &held[i].f;

		check(exo_ftable_lookup(exo, hf->cap, &e), "exo_ftable_lookup");
		if (e.pfn != hf->pfn || e.order != hf->order ||
		    e.colour != hf->colour)
			die("ftable entry %" PRIu32 " (pfn %#" PRIx64
			    " order %u colour %" PRIu32 ") disagrees with the %s "
			    "allocation (pfn %#" PRIx64 " order %" PRIu32
			    " colour %" PRIu32 ")", EXO_CAP_INDEX(hf->cap),
			    (uint64_t)e.pfn, e.order, e.colour, held[i].what,
			    hf->pfn, hf->order, hf->colour);
	}
	printf("  every capability we hold looks up to the frames it was "
	       "given\n");

	step("context counters (EXO_IOC_CTX_INFO)");
	ctx_info(exo, &info, 1);
	if (info.ctx_id != api->ctx_id || info.frames != held_frames() ||
	    info.caps != nr_held)
		die("counters say ctx %" PRIu32 ", %" PRIu64 " frames, %" PRIu64
		    " caps; expected ctx %" PRIu32 ", %" PRIu64 " frames, %u "
		    "caps", info.ctx_id, (uint64_t)info.frames,
		    (uint64_t)info.caps, api->ctx_id, held_frames(), nr_held);
	printf("  %" PRIu64 " frames in %u capabilities, as expected\n",
	       held_frames(), nr_held);

	step("free everything");
	for (i = 0; i < nr_held; i++) {
		uint64_t n = NR_FRAMES(held[i].f.order);

		check(exo_frame_free(exo, held[i].f.cap), "exo_frame_free");
		printf("  freed %2" PRIu64 " frame%s at pfn %#" PRIx64 " (%s), ",
		       n, n == 1 ? " " : "s", held[i].f.pfn, held[i].what);
		print_cap(held[i].f.cap);
		printf("\n");
	}
	nr_held = 0;
	ctx_info(exo, &info, 1);
	if (info.frames || info.caps || info.allocs != info.frees)
		die("after freeing everything: %" PRIu64 " frames, %" PRIu64
		    " caps, %" PRIu64 " allocs vs %" PRIu64 " frees",
		    (uint64_t)info.frames, (uint64_t)info.caps,
		    (uint64_t)info.allocs, (uint64_t)info.frees);
	i = dump_ftable(exo, &frames, 0);
	if (i || header_frames(h))
		die("after freeing everything the frame table shows %u entries "
		    "OWNED and its header %" PRIu64 " frames", i,
		    header_frames(h));
	printf("  frames back to 0: counters and frame table agree\n");

	exo_close(exo);
	printf("\nexo-demo: OK\n");
	return 0;
}
