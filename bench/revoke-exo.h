/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exo-vm-bench's revocation columns on exo, shared by revoke-exo.c (the
 * contexts, their rings and frames, the cooperative round trip) and
 * abort-exo.c (the abort protocol and RECOVER).
 *
 * Each column has its own context, the victim, with its event ring and
 * repossession vector mapped, and one exo VMA whose page i is bound to
 * the single frame caps[i]. Requests come from another context, the
 * operator's, as they would from exo's own triggers.
 */
#ifndef EXO_REVOKE_EXO_H
#define EXO_REVOKE_EXO_H

#include <pthread.h>

#include <libexo.h>

#include "revoke-bench.h"

struct rx_victim {
	struct exo *exo;
	int fd;
	uint32_t id;
	const struct exo_api *api;
	const struct exo_events_header *ev;
	const struct exo_repo_header *repo;
	char *va;
	size_t len;
	unsigned int npages;
	exo_cap_t *caps;		/* caps[i] is bound at page i */
	unsigned int held;		/* pages 0 .. held-1 are bound */
	struct exo_map_entry *entries;
};

void rx_check(int ret, const char *what);
const char *rx_open(struct rx_victim *v, unsigned int npages);
void rx_close(struct rx_victim *v);
void rx_alloc(struct rx_victim *v, exo_cap_t *caps, unsigned int n);
void rx_bind(struct rx_victim *v, const exo_cap_t *caps, unsigned int n);
uint64_t rx_revoke(uint32_t ctx_id, uint64_t nr, uint32_t flags);
int rx_next_event(const struct rx_victim *v, uint64_t *cursor,
		  struct exo_event *out);
void rx_info(struct rx_victim *v, struct exo_ctx_info *info);

static inline uint64_t rx_load(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

#endif /* EXO_REVOKE_EXO_H */
