/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `bpfilter test` packet lines: parse "key=value ..." into a packet
 * description and build the Ethernet + IPv4 (+ TCP/UDP/ICMP) frame, or with
 * `bpfilter test -6` the Ethernet + IPv6 (+ extension headers +
 * TCP/UDP/ICMPv6) frame. No I/O: the unit tests include pktline.c directly.
 */
#ifndef BF_CLI_PKTLINE_H
#define BF_CLI_PKTLINE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bf_pkt_frag {
	BF_PKT_FRAG_NONE,	/* not a fragment */
	BF_PKT_FRAG_FIRST,	/* MF set, offset 0, L4 header present */
	BF_PKT_FRAG_NONFIRST,	/* offset frag_off (8-byte units), no MF, payload only */
};

#define BF_PKT_NONFIRST_OFF	185	/* 1480 bytes: the 2nd fragment at MTU 1500 */
#define BF_PKT_NONFIRST_LEN	28	/* default: IP header + 8 payload bytes */
#define BF_PKT_LEN_MIN		20
#define BF_PKT_LEN_MAX		1500
#define BF_PKT_ETH_LEN		14
#define BF_PKT_FRAME_MAX	(BF_PKT_ETH_LEN + BF_PKT_LEN_MAX)
#define BF_PKT_LEN6_MIN		40
#define BF_PKT_EXT_MAX		8

#define BF_PKT_XOPTS_MAX	62	/* hopts=/dopts= bytes: headers up to 64 */

/* IPv6 extension headers of ext=, each 8 bytes (ah 16). */
enum bf_pkt_ext {
	BF_PKT_EXT_HOP,		/* hop-by-hop options (0), a PadN */
	BF_PKT_EXT_DST,		/* destination options (60), a PadN */
	BF_PKT_EXT_RT,		/* routing (43), type 0, segments left 0 */
	BF_PKT_EXT_FRAG,	/* fragment (44): offset/MF from frag= */
	BF_PKT_EXT_AH,		/* authentication header (51), 16 bytes */
	BF_PKT_EXT_NONE,	/* next header 59: nothing follows (last only) */
};

struct bf_pkt_spec {
	uint32_t saddr;		/* network order */
	uint32_t daddr;
	uint8_t proto;
	uint16_t sport;		/* host order */
	uint16_t dport;
	uint8_t tcp_flags;	/* byte 13 of the TCP header */
	uint8_t icmp_type;
	uint8_t icmp_code;
	char iif[IF_NAMESIZE];	/* "" = no device */
	char oif[IF_NAMESIZE];
	uint16_t len;		/* IP total length; 0 = headers only */
	uint8_t ttl;
	enum bf_pkt_frag frag;
	uint16_t frag_off;	/* NONFIRST: offset in 8-byte units */
	uint8_t smac[6];	/* Ethernet source */
	uint8_t l2type;		/* enum bf_pkt_l2type: Ethernet destination */
	uint8_t tcp_opts[40];	/* TCP options, padded with EOL to 4 bytes */
	uint8_t n_tcp_opts;	/* their length, a multiple of 4 */
	uint32_t mark;		/* skb->mark (-m mark; tc only) */
	uint32_t wait_ms;	/* sleep this long before sending (-m limit refills) */
	/*
	 * IPv6 (bf_pktline_parse_family(AF_INET6, ...)). saddr/daddr, len
	 * (the whole IPv6 packet, header included), ttl (the hop limit),
	 * proto (the upper-layer protocol, the last next header) and frag
	 * keep their meaning.
	 */
	int family;		/* AF_INET or AF_INET6 */
	uint8_t saddr6[16];
	uint8_t daddr6[16];
	uint8_t ext[BF_PKT_EXT_MAX];	/* enum bf_pkt_ext, in packet order */
	uint8_t n_ext;
	/*
	 * The routing headers of ext= (rt=TYPE:SEGS[:HDRLEN[:RESERVED]]):
	 * type, segments left, hdrlen (the header is (hdrlen + 1) * 8
	 * bytes, zeros after the first 8) and the 32-bit word at 4. All 0
	 * by default.
	 */
	uint8_t rt_type;
	uint8_t rt_segs;
	uint8_t rt_hdrlen;
	uint32_t rt_res;
	/*
	 * The fragment header of ext= (fh=ID[:RES[:BITS[:M]]], -m frag):
	 * identification (default 1), the reserved byte, the two reserved
	 * bits next to M, and M itself (default: 1 for frag=first, else 0).
	 */
	uint32_t fh_id;
	uint8_t fh_res;
	uint8_t fh_bits;
	int8_t fh_m;		/* -1: from frag= */
	/*
	 * The options of the hop-by-hop (hopts=HEX) and destination
	 * (dopts=HEX) headers of ext=, -m hbh / -m dst: the bytes after the
	 * header's first two, zero padded (Pad1s) to a multiple of 8 with
	 * them; none given: one PadN of 4 bytes, as before.
	 */
	uint8_t hopts[BF_PKT_XOPTS_MAX];
	uint8_t n_hopts;
	uint8_t dopts[BF_PKT_XOPTS_MAX];
	uint8_t n_dopts;
};

/*
 * The Ethernet destination, named by the pkt_type eth_type_trans() gives
 * it: unicast 00:00:00:00:00:00 (the loopback device's address, where
 * BPF_PROG_TEST_RUN runs skb programs), broadcast ff:ff:ff:ff:ff:ff,
 * multicast 01:00:5e:00:00:01.
 */
enum bf_pkt_l2type {
	BF_PKT_L2_UNICAST,
	BF_PKT_L2_BROADCAST,
	BF_PKT_L2_MULTICAST,
};

/* The defaults every line starts from (see BF_PKT_DEFAULTS_TEXT). */
void bf_pkt_spec_default(struct bf_pkt_spec *spec);

#define BF_PKT_DEFAULTS_TEXT \
	"src=10.0.0.2 dst=10.0.0.1 proto=tcp sport=40000 dport=80 flags=S " \
	"type=8 code=0 ttl=64 frag=none pkttype=unicast smac=02:00:00:00:00:02, " \
	"len=headers only, iif/oif none, mark=0, wait=0"

/*
 * Parse one line. Returns 1 and fills *spec for a packet line, 0 for a
 * blank line or a comment ('#' starts a comment anywhere a token could),
 * -EINVAL with a message naming the token in err otherwise.
 */
int bf_pktline_parse(const char *line, struct bf_pkt_spec *spec,
		     char *err, size_t errlen);

/*
 * The same for a family: AF_INET is bf_pktline_parse(); AF_INET6 starts
 * from BF_PKT_DEFAULTS6_TEXT, takes IPv6 addresses, proto=icmp6 (58) and
 * ext=hop,dst,rt,frag,ah,none (in packet order; none last). frag=
 * first|nonfirst|N sets the fragment header's offset and MF as for IPv4
 * (a fragment header is appended to ext= if it has none); rt=TYPE:SEGS
 * [:HDRLEN[:RESERVED]] shapes the routing headers of ext=; len= is the
 * whole IPv6 packet, 40..1500; payload_len always says what the frame
 * carries after the fixed header.
 */
int bf_pktline_parse_family(int family, const char *line,
			    struct bf_pkt_spec *spec, char *err, size_t errlen);
void bf_pkt_spec_default_family(int family, struct bf_pkt_spec *spec);

#define BF_PKT_DEFAULTS6_TEXT \
	"src=fd00::2 dst=fd00::1 proto=tcp sport=40000 dport=80 flags=S " \
	"type=128 code=0 ttl=64 (the hop limit) frag=none pkttype=unicast " \
	"smac=02:00:00:00:00:02, no extension headers, len=headers only, " \
	"iif/oif none"

/* The L4 header length the frame carries for spec (0 for nonfirst). */
unsigned int bf_pkt_l4_hdr_len(const struct bf_pkt_spec *spec);
/* IPv6: the bytes of the extension headers of spec (0 for IPv4). */
unsigned int bf_pkt_ext_len(const struct bf_pkt_spec *spec);
/* The IP total length of the frame for spec (IPv6: header included). */
unsigned int bf_pkt_ip_len(const struct bf_pkt_spec *spec);

/*
 * Build the frame into buf (size bytes, BF_PKT_FRAME_MAX is always enough).
 * Returns the frame length or -EINVAL / -ENOSPC.
 */
int bf_pkt_build(const struct bf_pkt_spec *spec, uint8_t *buf, size_t size);

/* Internet checksum (RFC 1071) of data, folded and complemented. */
uint16_t bf_pkt_csum(const void *data, size_t len, uint32_t sum);

#endif /* BF_CLI_PKTLINE_H */
