/* SPDX-License-Identifier: GPL-2.0 */
/* Cache colours (exo_colour.c). */
#ifndef _EXO_COLOUR_H
#define _EXO_COLOUR_H

#include <linux/types.h>

/* Colours of the last-level cache: set at load, read-only after. */
extern unsigned int exo_nr_colours;

void exo_colours_init(void);

/* Frames this many apart share the last-level cache's sets. */
static inline unsigned int exo_colour_of(unsigned long pfn)
{
	return pfn % exo_nr_colours;
}

#endif /* _EXO_COLOUR_H */
