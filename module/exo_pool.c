// SPDX-License-Identifier: GPL-2.0
/*
 * exo's own region: one aligned block of frames taken from Linux at load
 * and kept for allocation by name. Outside it, a named frame is only as
 * available as alloc_contig_range() makes it (Linux refuses a frame whose
 * pageblock holds unmovable memory); inside it, a frame no context holds is
 * always given, so a library OS can free a frame and name it again.
 */
#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "exo_compat.h"
#include "exo_pool.h"

static unsigned int exo_pool_order = 10;
module_param_named(pool_order, exo_pool_order, uint, 0444);
MODULE_PARM_DESC(pool_order,
		 "exo's own region for named frames: 2^pool_order frames taken at load, 0..MAX_PAGE_ORDER (default 10)");

struct exo_pool exo_pool = {
	.lock = __SPIN_LOCK_UNLOCKED(exo_pool.lock),
};

/**
 * exo_pool_init() - take the region from Linux at load.
 *
 * A region that cannot be had is not fatal: exo then has none (a warning
 * says so) and named frames come only from alloc_contig_range().
 *
 * Return: 0, or -EINVAL for a bad pool_order.
 */
int exo_pool_init(void)
{
	unsigned int order = exo_pool_order;
	struct page *page;

	if (!order)
		return 0;
	if (order > MAX_PAGE_ORDER)
		return -EINVAL;
	exo_pool.free = bitmap_zalloc(1U << order, GFP_KERNEL);
	if (!exo_pool.free)
		goto none;
	page = alloc_pages(GFP_HIGHUSER | __GFP_RETRY_MAYFAIL | __GFP_NOWARN,
			   order);
	if (!page) {
		bitmap_free(exo_pool.free);
		exo_pool.free = NULL;
		goto none;
	}
	split_page(page, order);
	exo_pool.base_pfn = page_to_pfn(page);
	exo_pool.nr = 1U << order;
	bitmap_fill(exo_pool.free, exo_pool.nr);
	return 0;
none:
	pr_warn("exo: no region of 2^%u frames; named frames only from Linux\n",
		order);
	return 0;
}

/**
 * exo_pool_exit() - give the region back to Linux at unload.
 */
void exo_pool_exit(void)
{
	unsigned int i;

	if (!exo_pool.nr)
		return;
	WARN(!bitmap_full(exo_pool.free, exo_pool.nr),
	     "exo: region frames still held at unload\n");
	for (i = 0; i < exo_pool.nr; i++)
		__free_page(pfn_to_page(exo_pool.base_pfn + i));
	bitmap_free(exo_pool.free);
	exo_pool.free = NULL;
	exo_pool.nr = 0;
}

/**
 * exo_pool_contains() - is @pfn in exo's region?
 * @pfn: a frame number.
 */
bool exo_pool_contains(unsigned long pfn)
{
	return pfn - exo_pool.base_pfn < exo_pool.nr;
}

/**
 * exo_pool_take() - hand frame @pfn of the region to a context.
 * @pfn: a frame in the region.
 *
 * Return: 0, or -EBUSY if a context holds it.
 */
int exo_pool_take(unsigned long pfn)
{
	int ret;

	spin_lock(&exo_pool.lock);
	ret = __test_and_clear_bit(pfn - exo_pool.base_pfn, exo_pool.free) ?
	      0 : -EBUSY;
	spin_unlock(&exo_pool.lock);
	return ret;
}

/**
 * exo_pool_put() - a context freed frame @pfn of the region.
 * @pfn: a frame in the region.
 */
void exo_pool_put(unsigned long pfn)
{
	spin_lock(&exo_pool.lock);
	WARN_ON(__test_and_set_bit(pfn - exo_pool.base_pfn, exo_pool.free));
	spin_unlock(&exo_pool.lock);
}

/**
 * exo_pool_nr_free() - frames of the region no context holds.
 */
unsigned int exo_pool_nr_free(void)
{
	unsigned int n;

	if (!exo_pool.nr)
		return 0;
	spin_lock(&exo_pool.lock);
	n = bitmap_weight(exo_pool.free, exo_pool.nr);
	spin_unlock(&exo_pool.lock);
	return n;
}

static ssize_t pool_frames_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", exo_pool.nr);
}
static DEVICE_ATTR_RO(pool_frames);

static ssize_t pool_free_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", exo_pool_nr_free());
}
static DEVICE_ATTR_RO(pool_free);

static struct attribute *exo_pool_attrs[] = {
	&dev_attr_pool_frames.attr,
	&dev_attr_pool_free.attr,
	NULL,
};

/* /sys/class/misc/exo/pool_frames and pool_free. */
const struct attribute_group exo_pool_attr_group = {
	.attrs = exo_pool_attrs,
};
