// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/ip_tables_names and /proc/net/ip6_tables_names in every network
 * namespace. iptables-legacy runs "modprobe ip_tables" unless the first
 * exists, and iptables-save without -t lists the tables it names.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "bpfilter.h"

static const char *const bpfilter_names_files[] = {
	"ip_tables_names",
	"ip6_tables_names",
};

static int bpfilter_names_show(struct seq_file *m, void *v)
{
	seq_puts(m, "filter\n");
	return 0;
}

static void bpfilter_proc_remove(struct net *net, int n)
{
	while (n-- > 0)
		remove_proc_entry(bpfilter_names_files[n], net->proc_net);
}

static int __net_init bpfilter_proc_net_init(struct net *net)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(bpfilter_names_files); i++) {
		if (!proc_create_net_single(bpfilter_names_files[i], 0440,
					    net->proc_net,
					    bpfilter_names_show, NULL)) {
			bpfilter_proc_remove(net, i);
			return -ENOMEM;
		}
	}
	return 0;
}

static void __net_exit bpfilter_proc_net_exit(struct net *net)
{
	bpfilter_proc_remove(net, ARRAY_SIZE(bpfilter_names_files));
}

static struct pernet_operations bpfilter_proc_ops = {
	.init = bpfilter_proc_net_init,
	.exit = bpfilter_proc_net_exit,
};

int bpfilter_proc_init(void)
{
	return register_pernet_subsys(&bpfilter_proc_ops);
}

void bpfilter_proc_exit(void)
{
	unregister_pernet_subsys(&bpfilter_proc_ops);
}
