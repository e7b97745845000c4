/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Grants: capabilities for another context's frames (exo_grant.c). Their
 * state is in &struct exo_cap (the owner's @grants list, the grantee's
 * @src) and &struct exo_cap_ctx (@granted).
 */
#ifndef _EXO_GRANT_H
#define _EXO_GRANT_H

#include <linux/mutex.h>
#include <linux/types.h>

struct exo_cap;
struct exo_ctx;
struct exo_ucmd;

/*
 * Serialises aborts, grants and the breaking of grants, so that each of
 * them locks one context at a time, never two; it also keeps a context
 * found in the registry alive (a dying context takes it before it goes).
 * Guards every &exo_cap.grants list and &exo_cap.grant_node.
 */
extern struct mutex exo_abort_lock;

void exo_grants_break(struct exo_cap *c);
void exo_grants_release(struct exo_ctx *ctx);

int exo_grant_give(struct exo_ctx *ctx, u64 cap, u32 ctx_id, u64 *grant_cap);
void exo_grant_take_back(u32 ctx_id, u64 grant_cap);

int exo_grant_cmd_give(struct exo_ucmd *ucmd);
void exo_grant_cmd_give_undo(struct exo_ucmd *ucmd);

#endif /* _EXO_GRANT_H */
