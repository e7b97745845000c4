// SPDX-License-Identifier: GPL-2.0
/*
 * exo: the exokernel architecture on a stock Linux kernel.
 *
 * /dev/exo is a misc device; each open file is one library-OS context
 * (exo_ctx.c). This file is the module's entry: it sets up what every
 * context relies on, registers the device with its file operations and
 * the rooms' sysfs attributes, makes the debugfs tables, and takes it all
 * down at unload. The module only protects: what to allocate, map or give
 * back is decided by the library OS (libexo). Documentation/design.rst
 * maps the rooms.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "exo.h"
#include "exo_colour.h"
#include "exo_cpu.h"
#include "exo_main.h"
#include "exo_ctx.h"
#include "exo_debugfs.h"
#include "exo_ioctl.h"
#include "exo_pool.h"

static const struct file_operations exo_fops = {
	.owner = THIS_MODULE,
	.open = exo_ctx_fop_open,
	.release = exo_ctx_fop_release,
	.unlocked_ioctl = exo_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = exo_ctx_fop_mmap,
	.read = exo_fault_fop_read,
	.poll = exo_ctx_fop_poll,
	.llseek = noop_llseek,
};

/* /sys/class/misc/exo/: each room's counters and controls. */
static const struct attribute_group *exo_groups[] = {
	&exo_ctx_attr_group,
	&exo_frame_attr_group,
	&exo_pool_attr_group,
	&exo_revoke_attr_group,
	&exo_cpu_attr_group,
	NULL,
};

static struct miscdevice exo_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "exo",
	.fops = &exo_fops,
	.groups = exo_groups,
	.mode = 0600,
};

static DEFINE_MUTEX(exo_core_lock);
static bool exo_core_ready;

/**
 * exo_core_init() - set up what every context relies on: the colour count,
 *	revocation's work queue and shrinker, exo's own region. Idempotent.
 *
 * KUnit runs a module's suites before its init function (6.1 does so at
 * MODULE_STATE_COMING), so the suites call this too.
 *
 * Return: 0, -ENOMEM, or -EINVAL for a bad pool_order.
 */
int exo_core_init(void)
{
	int ret = 0;

	mutex_lock(&exo_core_lock);
	if (!exo_core_ready) {
		exo_colours_init();
		ret = exo_revoke_init();
		if (!ret) {
			ret = exo_pool_init();
			if (ret)
				exo_revoke_exit();
		}
		exo_core_ready = !ret;
	}
	mutex_unlock(&exo_core_lock);
	return ret;
}

static void exo_core_exit(void)
{
	exo_pool_exit();
	exo_revoke_exit();
}

static int __init exo_init(void)
{
	int ret;

	ret = exo_core_init();
	if (ret)
		return ret;
	ret = exo_net_init();
	if (ret)
		goto err_core;
	exo_cpu_init();
	ret = misc_register(&exo_misc);
	if (ret)
		goto err_cpu;
	exo_debugfs_init();
	pr_info("loaded: api %d, %u colours, region of %u frames at pfn %#lx\n",
		EXO_API_VERSION, exo_nr_colours, exo_pool.nr,
		exo_pool.base_pfn);
	return 0;

err_cpu:
	exo_cpu_exit();
	exo_net_exit();
err_core:
	exo_core_exit();
	return ret;
}

static void __exit exo_exit(void)
{
	exo_debugfs_exit();
	misc_deregister(&exo_misc);
	exo_net_exit();
	exo_cpu_exit();
	/* Every context has closed (each holds a module reference). */
	WARN(!exo_frames_idle(), "exo: %ld frames still held at unload\n",
	     atomic_long_read(&exo_nr_frames));
	exo_core_exit();
	pr_info("unloaded\n");
}

module_init(exo_init);
module_exit(exo_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The exo developers");
MODULE_DESCRIPTION("exo: exokernel-style resource management for Linux");
