// SPDX-License-Identifier: GPL-2.0
/*
 * bpfilter.ko: iptables sockopts served by a BPF translator.
 *
 * The module takes the ip_tables/ip6_tables sockopt ranges and forwards
 * every request to its embedded user-mode helper, bpfilter-umh, which
 * translates the tables into BPF and attaches them at XDP or tc on the
 * interfaces named by the "ifaces" parameter.
 *
 * Parameters (see kmod/README):
 *   ifaces=veth0,eth1  interfaces the helper attaches to (--iface each)
 *   hook=xdp|tc        where it attaches (default tc)
 *   state_dir=DIR      where the helper persists its tables
 *                      (default /run/bpfilter-kmod); a restarted helper
 *                      restores them from there
 *   timeout_ms=N       a request the helper does not answer within N ms
 *                      fails with -ETIMEDOUT and the helper is restarted
 *   other_netns=0|1    serve callers in other network namespaces (default
 *                      1: the helper keeps a table per namespace; 0 refuses
 *                      them with -EOPNOTSUPP)
 *   helper_pid         read only: the helper's pid, 0 when none runs
 *
 * rmmod stops the helper. The BPF programs it attached stay attached and
 * keep filtering with the last rules (removing a firewall module must not
 * open the firewall); loading the module again restores the same tables
 * from state_dir and adopts them. The rules are removed by flushing them
 * (iptables -F) before rmmod.
 */
#define pr_fmt(fmt) "bpfilter: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "bpfilter.h"

char *bpfilter_ifaces = "";
module_param_named(ifaces, bpfilter_ifaces, charp, 0444);
MODULE_PARM_DESC(ifaces, "comma-separated interfaces the helper attaches to");

char *bpfilter_hook = "tc";
module_param_named(hook, bpfilter_hook, charp, 0444);
MODULE_PARM_DESC(hook, "attach point: xdp or tc (default tc)");

char *bpfilter_state_dir = "/run/bpfilter-kmod";
module_param_named(state_dir, bpfilter_state_dir, charp, 0444);
MODULE_PARM_DESC(state_dir, "where the helper persists its tables");

unsigned int bpfilter_timeout_ms = 30000;
module_param_named(timeout_ms, bpfilter_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "how long a request waits for the helper (ms)");

bool bpfilter_other_netns = true;
module_param_named(other_netns, bpfilter_other_netns, bool, 0644);
MODULE_PARM_DESC(other_netns, "serve network namespaces other than the initial one, each with its own table (default 1; 0 refuses them)");

static int bpfilter_pid_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", bpfilter_umh_pid());
}

static const struct kernel_param_ops bpfilter_pid_ops = {
	.get = bpfilter_pid_get,
};
module_param_cb(helper_pid, &bpfilter_pid_ops, NULL, 0444);
MODULE_PARM_DESC(helper_pid, "pid of the running helper (read only)");

static int bpfilter_check_params(void)
{
	if (strcmp(bpfilter_hook, "xdp") && strcmp(bpfilter_hook, "tc")) {
		pr_err("hook=%s: must be xdp or tc\n", bpfilter_hook);
		return -EINVAL;
	}
	if (bpfilter_state_dir[0] != '/') {
		pr_err("state_dir=%s: must be an absolute path\n",
		       bpfilter_state_dir);
		return -EINVAL;
	}
	if (!bpfilter_timeout_ms) {
		pr_err("timeout_ms=0: must be positive\n");
		return -EINVAL;
	}
	return 0;
}

static int __init bpfilter_init(void)
{
	int err;

	err = bpfilter_check_params();
	if (err)
		return err;
	/* the blob lives in .init.rodata: copy it out now */
	err = bpfilter_umh_init();
	if (err)
		return err;
	/* fails first, and with a clear message, if ip_tables is loaded */
	err = bpfilter_sockopt_init();
	if (err)
		goto umh_exit;
	err = bpfilter_proc_init();
	if (err)
		goto sockopt_exit;
	err = bpfilter_umh_run();
	if (err)
		goto proc_exit;
	return 0;

proc_exit:
	bpfilter_proc_exit();
sockopt_exit:
	bpfilter_sockopt_exit();
umh_exit:
	bpfilter_umh_exit();
	return err;
}

static void __exit bpfilter_exit(void)
{
	bpfilter_sockopt_exit();
	bpfilter_proc_exit();
	bpfilter_umh_exit();
}

module_init(bpfilter_init);
module_exit(bpfilter_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("iptables sockopts translated to BPF by an embedded helper");
MODULE_ALIAS("ip_tables_bpf");
