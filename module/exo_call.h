/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protected control transfer: the register commands (exo_call.c). Entries
 * and call capabilities are exo_entry.h's.
 */
#ifndef _EXO_CALL_H
#define _EXO_CALL_H

struct exo_ctx;

long exo_call_ioctl(struct exo_ctx *ctx, unsigned int cmd, unsigned long arg);

#endif /* _EXO_CALL_H */
