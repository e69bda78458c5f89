/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper binary, embedded. Only needed until module_init has copied it
 * into a shmem file, hence .init.rodata. BPFILTER_UMH_BLOB is the absolute
 * path of the binary, set by Kbuild.
 */
	.section .init.rodata, "a"
	.global bpfilter_umh_blob_start
bpfilter_umh_blob_start:
	.incbin BPFILTER_UMH_BLOB
	.global bpfilter_umh_blob_end
bpfilter_umh_blob_end:
