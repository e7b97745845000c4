// SPDX-License-Identifier: GPL-2.0
/*
 * The module's tables in debugfs, read-only and root's only:
 * /sys/kernel/debug/exo/{contexts,frames,vm,revocations,claims,handlers}.
 * Each file is one header line naming the columns, then one line per
 * object, its fields separated by one space; no field is empty or holds
 * white space. exoctl reads them (Documentation/exoctl.rst is the format);
 * debugfs promises no ABI, so exoctl goes with the module's version and
 * finds its columns by name.
 *
 * Locking: a walk of the contexts holds exo_abort_lock, which keeps every
 * context it finds in the registry alive (a dying context takes it after
 * leaving the registry, before any of its parts goes), and locks one
 * context at a time, ctx->lock and then ev.lock for the revocation state,
 * as the abort does. The registry's xa_lock comes after ctx->lock in the
 * order, so the walk does not hold it: xa_for_each() finds the contexts
 * under RCU. The network's tables take exo_net_lock first (claims and
 * handlers change under it), then exo_abort_lock.
 */
#include <linux/bpf.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/filter.h>
#include <linux/pid.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>

#include "exo.h"
#include "exo_ctx.h"
#include "exo_debugfs.h"
#include "exo_flow.h"
#include "exo_grant.h"

static struct dentry *exo_debugfs_dir;

static const char *const exo_dbg_how[] = {
	[EXO_ALLOC_ANY] = "any",
	[EXO_ALLOC_PFN] = "pfn",
	[EXO_ALLOC_COLOUR] = "colour",
	[EXO_ALLOC_CONTIG] = "contig",
};

static const char *const exo_dbg_mode[] = {
	[EXO_FAULT_MODE_SIGNAL] = "signal",
	[EXO_FAULT_MODE_EVENT] = "event",
	[EXO_FAULT_MODE_UPCALL] = "upcall",
};

static const char *const exo_dbg_state[] = {
	[EXO_REVOKE_IDLE] = "idle",
	[EXO_REVOKE_REQUESTED] = "requested",
	[EXO_REVOKE_URGENT] = "urgent",
	[EXO_REVOKE_ABORTING] = "aborting",
};

static const char *exo_dbg_name(const char *const *names, size_t nr, u32 i)
{
	return i < nr && names[i] ? names[i] : "?";
}

/* A string as one field: '-' when empty, '?' for white space and the like. */
static void exo_dbg_word(struct seq_file *m, const char *s)
{
	if (!*s)
		seq_putc(m, '-');
	for (; *s; s++)
		seq_putc(m, (u8)*s > ' ' && (u8)*s < 0x7f ? *s : '?');
}

/* Milliseconds from @now to @t, 0 once it has passed. */
static u64 exo_dbg_ms_to(u64 t, u64 now)
{
	return t > now ? div_u64(t - now, NSEC_PER_MSEC) : 0;
}

/**
 * struct exo_dbg_rv - a copy of a context's revocation state (&struct
 *	exo_revoke_ctx has the fields), taken under ev.lock.
 * @owed: frames owed now.
 * @id: the latest request.
 * @deadline_ns: its deadline.
 * @urgent_ns: its urgent warning.
 * @state: an &enum exo_revoke_state.
 * @requested: frames asked for since open.
 * @returned: owed frames freed since open.
 * @repossessed: frames the abort took since open.
 */
struct exo_dbg_rv {
	u64 owed;
	u64 id;
	u64 deadline_ns;
	u64 urgent_ns;
	u32 state;
	u64 requested;
	u64 returned;
	u64 repossessed;
};

static void exo_dbg_rv_read(struct exo_ctx *ctx, struct exo_dbg_rv *rv)
{
	spin_lock(&ctx->ev.lock);
	rv->owed = ctx->rv.owed;
	rv->id = ctx->rv.id;
	rv->deadline_ns = ctx->rv.deadline_ns;
	rv->urgent_ns = ctx->rv.urgent_ns;
	rv->state = ctx->rv.state;
	rv->requested = ctx->rv.requested;
	rv->returned = ctx->rv.returned;
	rv->repossessed = ctx->rv.repossessed;
	spin_unlock(&ctx->ev.lock);
}

static int exo_dbg_contexts_show(struct seq_file *m, void *unused)
{
	struct exo_dbg_rv rv;
	struct exo_ctx *ctx;
	unsigned long id;

	seq_puts(m, "id pid comm uid frames quota caps granted critical bindings allocs frees mode refills upcalls repo owed state\n");
	mutex_lock(&exo_abort_lock);
	exo_ctx_for_each(id, ctx) {
		mutex_lock(&ctx->lock);
		exo_dbg_rv_read(ctx, &rv);
		seq_printf(m, "%u %d ", ctx->id, pid_vnr(ctx->pid));
		exo_dbg_word(m, ctx->comm);
		seq_printf(m, " %u %llu %u %u %u %u %llu %llu %llu %s %llu %llu %u %llu %s\n",
			   from_kuid_munged(seq_user_ns(m), ctx->uid),
			   ctx->frames.held, ctx->frames.quota, ctx->caps.nr,
			   ctx->caps.granted, ctx->frames.critical,
			   ctx->bind.nr, ctx->frames.allocs, ctx->frames.frees,
			   exo_dbg_name(exo_dbg_mode, ARRAY_SIZE(exo_dbg_mode),
					ctx->fault.mode),
			   ctx->fault.refills, ctx->fault.upcalls,
			   ctx->repo.used, rv.owed,
			   exo_dbg_name(exo_dbg_state, ARRAY_SIZE(exo_dbg_state),
					rv.state));
		mutex_unlock(&ctx->lock);
	}
	mutex_unlock(&exo_abort_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(exo_dbg_contexts);

/* Contexts @f was granted to. exo_abort_lock held (it guards the list). */
static u32 exo_dbg_nr_grants(struct exo_cap *f)
{
	struct exo_cap *g;
	u32 nr = 0;

	list_for_each_entry(g, &f->grants, grant_node)
		nr++;
	return nr;
}

static int exo_dbg_frames_show(struct seq_file *m, void *unused)
{
	unsigned long id, index;
	struct exo_ctx *ctx;
	struct exo_cap *c;

	seq_puts(m, "ctx cap index pfn order how critical pinned bindings src grants\n");
	mutex_lock(&exo_abort_lock);
	exo_ctx_for_each(id, ctx) {
		mutex_lock(&ctx->lock);
		xa_for_each(&ctx->caps.xa, index, c) {
			/* Reserved, not yet published: names nothing. */
			if (!c->gen)
				continue;
			seq_printf(m, "%u 0x%llx %u 0x%lx %u %s %u %u %u %u %u\n",
				   ctx->id, exo_cap_make(c->index, c->gen),
				   c->index, c->pfn, c->order,
				   exo_dbg_name(exo_dbg_how,
						ARRAY_SIZE(exo_dbg_how), c->how),
				   c->critical, c->pinned, c->nr_bindings,
				   c->src ? c->src->holder->id : 0,
				   c->src ? 0 : exo_dbg_nr_grants(c));
		}
		mutex_unlock(&ctx->lock);
		cond_resched();
	}
	mutex_unlock(&exo_abort_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(exo_dbg_frames);

static int exo_dbg_vm_show(struct seq_file *m, void *unused)
{
	unsigned long id, vpn;
	struct exo_ctx *ctx;
	struct exo_cap *c;
	u32 prot;
	void *b;

	seq_puts(m, "ctx va cap pfn prot dirty\n");
	mutex_lock(&exo_abort_lock);
	exo_ctx_for_each(id, ctx) {
		mutex_lock(&ctx->lock);
		xa_for_each(&ctx->bind.map, vpn, b) {
			c = exo_cap_at(&ctx->caps, exo_b_index(b));
			prot = exo_b_prot(b);
			seq_printf(m, "%u 0x%lx 0x%llx 0x%lx %c%c%c %u\n",
				   ctx->id, vpn << PAGE_SHIFT,
				   c ? exo_cap_make(c->index, c->gen) : 0,
				   c ? c->pfn + exo_b_frame(b) : 0,
				   prot & EXO_PROT_READ ? 'r' : '-',
				   prot & EXO_PROT_WRITE ? 'w' : '-',
				   prot & EXO_PROT_EXEC ? 'x' : '-',
				   exo_b_dirty(b));
		}
		mutex_unlock(&ctx->lock);
		cond_resched();
	}
	mutex_unlock(&exo_abort_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(exo_dbg_vm);

static int exo_dbg_revocations_show(struct seq_file *m, void *unused)
{
	struct exo_dbg_rv rv;
	struct exo_ctx *ctx;
	unsigned long id;
	u64 now;

	seq_puts(m, "ctx id owed state deadline_ms urgent_ms requested returned repossessed\n");
	mutex_lock(&exo_abort_lock);
	exo_ctx_for_each(id, ctx) {
		exo_dbg_rv_read(ctx, &rv);
		/* Only contexts that were ever asked. */
		if (!rv.id)
			continue;
		now = ktime_get_ns();
		seq_printf(m, "%u %llu %llu %s %llu %llu %llu %llu %llu\n",
			   ctx->id, rv.id, rv.owed,
			   exo_dbg_name(exo_dbg_state, ARRAY_SIZE(exo_dbg_state),
					rv.state),
			   rv.owed ? exo_dbg_ms_to(rv.deadline_ns, now) : 0,
			   rv.owed && rv.state == EXO_REVOKE_REQUESTED ?
			   exo_dbg_ms_to(rv.urgent_ns, now) : 0,
			   rv.requested, rv.returned, rv.repossessed);
	}
	mutex_unlock(&exo_abort_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(exo_dbg_revocations);

/* The handler of claim @c, or NULL. exo_net_lock held. */
static struct bpf_prog *exo_dbg_prog(struct exo_flow *c)
{
	return rcu_dereference_protected(c->prog,
					 lockdep_is_held(&exo_net_lock));
}

static int exo_dbg_claims_show(struct seq_file *m, void *unused)
{
	unsigned long id, cid;
	struct bpf_prog *prog;
	struct exo_ctx *ctx;
	struct exo_flow *c;

	seq_puts(m, "ctx claim ifindex ethertype proto port handler packets delivered dropped replied passed ring_full bad_verdict\n");
	mutex_lock(&exo_net_lock);
	mutex_lock(&exo_abort_lock);
	exo_ctx_for_each(id, ctx) {
		xa_for_each(&ctx->net.claims, cid, c) {
			prog = exo_dbg_prog(c);
			seq_printf(m, "%u %u %d 0x%04lx %lu %lu %u %lld %lld %lld %lld %lld %lld %lld\n",
				   ctx->id, c->id, exo_net_flow_ifindex(c),
				   c->key >> 24, (c->key >> 16) & 0xff,
				   c->key & 0xffff, prog ? prog->aux->id : 0,
				   atomic64_read(&c->packets),
				   atomic64_read(&c->delivered),
				   atomic64_read(&c->dropped),
				   atomic64_read(&c->replied),
				   atomic64_read(&c->passed),
				   atomic64_read(&c->ring_full),
				   atomic64_read(&c->bad_verdict));
		}
	}
	mutex_unlock(&exo_abort_lock);
	mutex_unlock(&exo_net_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(exo_dbg_claims);

static int exo_dbg_handlers_show(struct seq_file *m, void *unused)
{
	unsigned long id, cid;
	struct bpf_prog *prog;
	struct exo_ctx *ctx;
	struct exo_flow *c;

	seq_puts(m, "ctx claim ifindex prog_id tag name\n");
	mutex_lock(&exo_net_lock);
	mutex_lock(&exo_abort_lock);
	exo_ctx_for_each(id, ctx) {
		xa_for_each(&ctx->net.claims, cid, c) {
			prog = exo_dbg_prog(c);
			if (!prog)
				continue;
			seq_printf(m, "%u %u %d %u %*phN ", ctx->id, c->id,
				   exo_net_flow_ifindex(c), prog->aux->id,
				   (int)sizeof(prog->tag), prog->tag);
			exo_dbg_word(m, prog->aux->name);
			seq_putc(m, '\n');
		}
	}
	mutex_unlock(&exo_abort_lock);
	mutex_unlock(&exo_net_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(exo_dbg_handlers);

/**
 * exo_debugfs_init() - make /sys/kernel/debug/exo/ and its tables.
 *
 * Failures are not errors: the module works without them (debugfs may
 * be off, or not allowed by the kernel's command line).
 */
void exo_debugfs_init(void)
{
	struct dentry *d = debugfs_create_dir("exo", NULL);

	exo_debugfs_dir = d;
	debugfs_create_file("contexts", 0400, d, NULL, &exo_dbg_contexts_fops);
	debugfs_create_file("frames", 0400, d, NULL, &exo_dbg_frames_fops);
	debugfs_create_file("vm", 0400, d, NULL, &exo_dbg_vm_fops);
	debugfs_create_file("revocations", 0400, d, NULL,
			    &exo_dbg_revocations_fops);
	debugfs_create_file("claims", 0400, d, NULL, &exo_dbg_claims_fops);
	debugfs_create_file("handlers", 0400, d, NULL, &exo_dbg_handlers_fops);
}

/**
 * exo_debugfs_exit() - remove /sys/kernel/debug/exo/; waits for readers
 *	still in a file's read.
 */
void exo_debugfs_exit(void)
{
	debugfs_remove(exo_debugfs_dir);
	exo_debugfs_dir = NULL;
}
