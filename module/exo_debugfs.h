/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's tables, read-only, in debugfs (exo_debugfs.c): what
 * exoctl reads (Documentation/exoctl.rst).
 */
#ifndef _EXO_DEBUGFS_H
#define _EXO_DEBUGFS_H

#ifdef CONFIG_DEBUG_FS
void exo_debugfs_init(void);
void exo_debugfs_exit(void);
#else
static inline void exo_debugfs_init(void)
{
}

static inline void exo_debugfs_exit(void)
{
}
#endif

#endif /* _EXO_DEBUGFS_H */
