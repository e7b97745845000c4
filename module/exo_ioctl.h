/* SPDX-License-Identifier: GPL-2.0 */
/* The ioctl dispatch of /dev/exo (exo_ioctl.c). */
#ifndef _EXO_IOCTL_H
#define _EXO_IOCTL_H

struct exo_ctx;
struct file;

long exo_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int exo_ioctl_run(struct exo_ctx *ctx, unsigned int cmd, void *kbuf);

#endif /* _EXO_IOCTL_H */
