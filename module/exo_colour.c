// SPDX-License-Identifier: GPL-2.0
/*
 * Cache colours: frames whose PFNs are equal modulo the colour count share
 * the same sets of a physically indexed last-level cache. The count is
 * the bytes in one way of that cache / PAGE_SIZE, read with CPUID (leaf 4 on Intel,
 * 0x8000001d on AMD), because the kernel's cacheinfo is not exported.
 */
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#ifdef CONFIG_X86
#include <asm/processor.h>
#endif

#include "exo_colour.h"

unsigned int exo_nr_colours;
module_param_named(nr_colours, exo_nr_colours, uint, 0444);
MODULE_PARM_DESC(nr_colours,
		 "Cache colours; 0 = derive from the last-level cache at load");

#define EXO_DEFAULT_COLOURS	64
#define EXO_MAX_COLOURS		4096

#ifdef CONFIG_X86
static unsigned int exo_cpuid_colours(u32 leaf)
{
	unsigned int best_level = 0, colours = 0, i;
	u32 eax, ebx, ecx, edx;

	for (i = 0; i < 8; i++) {
		unsigned int type, level, parts, line, sets;
		u64 size;

		cpuid_count(leaf, i, &eax, &ebx, &ecx, &edx);
		type = eax & 0x1f;
		if (!type)
			break;
		if (type != 3)		/* unified caches only */
			continue;
		level = (eax >> 5) & 0x7;
		parts = ((ebx >> 12) & 0x3ff) + 1;
		line = (ebx & 0xfff) + 1;
		sets = ecx + 1;
		/* bytes in one way: frames this far apart collide */
		size = (u64)sets * line * parts;
		if (level > best_level && size >= PAGE_SIZE) {
			best_level = level;
			colours = size / PAGE_SIZE;
		}
	}
	return colours;
}
#endif

/* Number of page colours of the last-level cache; 0 if not described. */
static unsigned int exo_detect_colours(void)
{
	unsigned int colours = 0;

#ifdef CONFIG_X86
	if (boot_cpu_data.cpuid_level >= 4 &&
	    boot_cpu_data.x86_vendor == X86_VENDOR_INTEL)
		colours = exo_cpuid_colours(4);
	else if (boot_cpu_has(X86_FEATURE_TOPOEXT))
		colours = exo_cpuid_colours(0x8000001d);
#endif
	return colours;
}

/**
 * exo_colours_init() - set the colour count at load, unless the nr_colours
 *	parameter gave one: a power of two in [1, EXO_MAX_COLOURS], and
 *	EXO_DEFAULT_COLOURS when the CPU does not describe its caches.
 */
void exo_colours_init(void)
{
	unsigned int colours;

	if (exo_nr_colours)
		return;
	colours = exo_detect_colours();
	if (!colours)
		exo_nr_colours = EXO_DEFAULT_COLOURS;
	else
		exo_nr_colours = rounddown_pow_of_two(min_t(unsigned int, colours,
							    EXO_MAX_COLOURS));
}
