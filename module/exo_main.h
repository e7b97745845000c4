/* SPDX-License-Identifier: GPL-2.0 */
/* The module's entry (exo_main.c): what KUnit needs of it. */
#ifndef _EXO_MAIN_H
#define _EXO_MAIN_H

int exo_core_init(void);

#endif /* _EXO_MAIN_H */
