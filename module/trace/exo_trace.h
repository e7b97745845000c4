/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exo's trace events (system "exo"): what a library OS asked of the
 * module and what the module did, for trace-cmd, perf trace and tracefs
 * (Documentation/tracing.rst). Each event names the context by its id,
 * the number EXO_IOC_CTX_INFO reports.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM exo

#if !defined(EXO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define EXO_TRACE_H

#include <linux/tracepoint.h>

/* How a fault on a bound page ended (exo_fault). */
#define EXO_TRACE_REFILL	0
#define EXO_TRACE_EVENT		1
#define EXO_TRACE_UPCALL	2
#define EXO_TRACE_SIGBUS	3

/* Which processor command (exo_call). */
#define EXO_TRACE_CALL		0
#define EXO_TRACE_CALL_FRAME	1
#define EXO_TRACE_REPLY		2
#define EXO_TRACE_SEND		3

TRACE_EVENT(exo_frame_alloc,
	TP_PROTO(u32 ctx, u64 cap, unsigned long pfn, u32 order, u32 how),
	TP_ARGS(ctx, cap, pfn, order, how),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, order)
		__field(u64, cap)
		__field(unsigned long, pfn)
		__field(u32, how)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->order = order;
		__entry->cap = cap;
		__entry->pfn = pfn;
		__entry->how = how;
	),
	TP_printk("ctx=%u cap=%#llx pfn=%#lx order=%u how=%u",
		  __entry->ctx, __entry->cap, __entry->pfn, __entry->order,
		  __entry->how)
);

TRACE_EVENT(exo_frame_free,
	TP_PROTO(u32 ctx, unsigned long pfn, u32 order),
	TP_ARGS(ctx, pfn, order),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, order)
		__field(unsigned long, pfn)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->order = order;
		__entry->pfn = pfn;
	),
	TP_printk("ctx=%u pfn=%#lx order=%u", __entry->ctx, __entry->pfn,
		  __entry->order)
);

/* A batched VM command: how many entries or ranges, and its result. */
DECLARE_EVENT_CLASS(exo_vm_cmd,
	TP_PROTO(u32 ctx, u32 nr, int ret),
	TP_ARGS(ctx, nr, ret),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, nr)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->nr = nr;
		__entry->ret = ret;
	),
	TP_printk("ctx=%u nr=%u ret=%d", __entry->ctx, __entry->nr,
		  __entry->ret)
);

DEFINE_EVENT(exo_vm_cmd, exo_map,
	TP_PROTO(u32 ctx, u32 nr, int ret),
	TP_ARGS(ctx, nr, ret));
DEFINE_EVENT(exo_vm_cmd, exo_unmap,
	TP_PROTO(u32 ctx, u32 nr, int ret),
	TP_ARGS(ctx, nr, ret));
DEFINE_EVENT(exo_vm_cmd, exo_protect,
	TP_PROTO(u32 ctx, u32 nr, int ret),
	TP_ARGS(ctx, nr, ret));

TRACE_EVENT(exo_fault,
	TP_PROTO(u32 ctx, unsigned long va, u32 access, u32 how),
	TP_ARGS(ctx, va, access, how),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, access)
		__field(unsigned long, va)
		__field(u32, how)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->access = access;
		__entry->va = va;
		__entry->how = how;
	),
	TP_printk("ctx=%u va=%#lx access=%#x how=%s", __entry->ctx,
		  __entry->va, __entry->access,
		  __print_symbolic(__entry->how,
				   { EXO_TRACE_REFILL, "refill" },
				   { EXO_TRACE_EVENT, "event" },
				   { EXO_TRACE_UPCALL, "upcall" },
				   { EXO_TRACE_SIGBUS, "sigbus" }))
);

/* A step of a revocation: the request's id and the frames it concerns. */
DECLARE_EVENT_CLASS(exo_revoke_step,
	TP_PROTO(u32 ctx, u64 id, u64 nr),
	TP_ARGS(ctx, id, nr),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u64, id)
		__field(u64, nr)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->id = id;
		__entry->nr = nr;
	),
	TP_printk("ctx=%u id=%llu nr=%llu", __entry->ctx, __entry->id,
		  __entry->nr)
);

/* Frames asked for. */
DEFINE_EVENT(exo_revoke_step, exo_revoke_request,
	TP_PROTO(u32 ctx, u64 id, u64 nr),
	TP_ARGS(ctx, id, nr));
/* The urgent warning: frames still owed. */
DEFINE_EVENT(exo_revoke_step, exo_revoke_warning,
	TP_PROTO(u32 ctx, u64 id, u64 nr),
	TP_ARGS(ctx, id, nr));
/* The abort protocol: frames taken. */
DEFINE_EVENT(exo_revoke_step, exo_revoke_abort,
	TP_PROTO(u32 ctx, u64 id, u64 nr),
	TP_ARGS(ctx, id, nr));
/* Nothing owed any more: frames the library OS gave back. */
DEFINE_EVENT(exo_revoke_step, exo_revoke_done,
	TP_PROTO(u32 ctx, u64 id, u64 nr),
	TP_ARGS(ctx, id, nr));

/* RECOVER of a repossession vector slot. */
TRACE_EVENT(exo_recover,
	TP_PROTO(u32 ctx, u32 slot, int ret),
	TP_ARGS(ctx, slot, ret),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, slot)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->slot = slot;
		__entry->ret = ret;
	),
	TP_printk("ctx=%u slot=%u ret=%d", __entry->ctx, __entry->slot,
		  __entry->ret)
);

TRACE_EVENT(exo_grant,
	TP_PROTO(u32 ctx, u64 cap, u32 to, u64 grant_cap),
	TP_ARGS(ctx, cap, to, grant_cap),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, to)
		__field(u64, cap)
		__field(u64, grant_cap)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->to = to;
		__entry->cap = cap;
		__entry->grant_cap = grant_cap;
	),
	TP_printk("ctx=%u cap=%#llx to=%u grant=%#llx", __entry->ctx,
		  __entry->cap, __entry->to, __entry->grant_cap)
);

TRACE_EVENT(exo_claim,
	TP_PROTO(u32 ctx, u32 ifindex, u16 ethertype, u8 ip_proto, u16 port,
		 u32 id, int ret),
	TP_ARGS(ctx, ifindex, ethertype, ip_proto, port, id, ret),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, ifindex)
		__field(u16, ethertype)
		__field(u16, port)
		__field(u8, ip_proto)
		__field(u32, id)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->ifindex = ifindex;
		__entry->ethertype = ethertype;
		__entry->port = port;
		__entry->ip_proto = ip_proto;
		__entry->id = id;
		__entry->ret = ret;
	),
	TP_printk("ctx=%u ifindex=%u ethertype=%#06x ip_proto=%u port=%u id=%u ret=%d",
		  __entry->ctx, __entry->ifindex, __entry->ethertype,
		  __entry->ip_proto, __entry->port, __entry->id, __entry->ret)
);

TRACE_EVENT(exo_verdict,
	TP_PROTO(u32 ctx, u32 claim, u32 verdict, u32 len),
	TP_ARGS(ctx, claim, verdict, len),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, claim)
		__field(u32, verdict)
		__field(u32, len)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->claim = claim;
		__entry->verdict = verdict;
		__entry->len = len;
	),
	TP_printk("ctx=%u claim=%u verdict=%u len=%u", __entry->ctx,
		  __entry->claim, __entry->verdict, __entry->len)
);

TRACE_EVENT(exo_call,
	TP_PROTO(u32 ctx, u32 op, u64 cap, long ret),
	TP_ARGS(ctx, op, cap, ret),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, op)
		__field(u64, cap)
		__field(long, ret)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->op = op;
		__entry->cap = cap;
		__entry->ret = ret;
	),
	TP_printk("ctx=%u op=%s cap=%#llx ret=%ld", __entry->ctx,
		  __print_symbolic(__entry->op,
				   { EXO_TRACE_CALL, "call" },
				   { EXO_TRACE_CALL_FRAME, "call_frame" },
				   { EXO_TRACE_REPLY, "reply" },
				   { EXO_TRACE_SEND, "send" }),
		  __entry->cap, __entry->ret)
);

#endif /* EXO_TRACE_H */

/* This header lives beside the module, not in include/trace/events. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH trace
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE exo_trace
#include <trace/define_trace.h>
