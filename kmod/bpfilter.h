/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpfilter.ko: owns the iptables sockopt ranges and forwards every request
 * to the user-mode helper (bpfilter-umh) embedded in the module.
 */
#ifndef _BPFILTER_KMOD_H
#define _BPFILTER_KMOD_H

#include <linux/init.h>
#include <linux/types.h>
#include <linux/sockptr.h>

struct net;

/* One answer from the helper, as bpfilter_umh_request() hands it back. */
struct bpfilter_answer {
	int status;		/* 0, a positive value, or -errno */
	u32 optlen;		/* GET: the new *optlen */
	void *payload;		/* kvmalloc'ed, owned by the caller */
	u32 payload_len;
};

/* bpfilter_umh.c */
int __init bpfilter_umh_init(void);
int bpfilter_umh_run(void);
int bpfilter_umh_pid(void);
void bpfilter_umh_exit(void);
int bpfilter_umh_request(u32 cmd, u32 family, u32 optname, u32 optlen,
			 const struct net *net, const void *payload,
			 u32 payload_len, u32 reply_max,
			 struct bpfilter_answer *ans);

/* bpfilter_sockopt.c */
int bpfilter_sockopt_init(void);
void bpfilter_sockopt_exit(void);

/* bpfilter_proc.c */
int bpfilter_proc_init(void);
void bpfilter_proc_exit(void);

/* module parameters, bpfilter_main.c */
extern char *bpfilter_ifaces;
extern char *bpfilter_hook;
extern char *bpfilter_state_dir;
extern unsigned int bpfilter_timeout_ms;
extern bool bpfilter_other_netns;

/* bpfilter_blob.S */
extern const char bpfilter_umh_blob_start[];
extern const char bpfilter_umh_blob_end[];

#endif /* _BPFILTER_KMOD_H */
