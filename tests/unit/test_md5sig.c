/* TCP-MD5 (RFC 2385): known-answer digests, signing hs_tx, checking segments.
 *
 * The expected digests were computed with python3's hashlib from the same segments,
 * built by hand (RFC 2385 2.0: pseudo-header, header without options and with
 * checksum 0, payload, key):
 *
 *   def dig4(src, dst, tcp, key):
 *       doff = (tcp[12] >> 4) * 4
 *       ph = inet_aton(src) + inet_aton(dst) + bytes([0, 6]) + pack('!H', len(tcp))
 *       h = bytearray(tcp[:20]); h[16] = h[17] = 0
 *       return md5(ph + bytes(h) + tcp[doff:] + key).hexdigest()
 *   dig6: ph = inet_pton(src) + inet_pton(dst) + pack('!I', len(tcp)) + bytes([0, 0, 0, 6])
 *
 *   SYN:  pack('!HHIIBBHHH', 40000, 179, 1000, 0, 11 << 4, 0x02, 65535, 0xbeef, 0)
 *         + mss 1460, nop, nop, md5 (16 zero bytes); key b'secret'
 *         198.18.0.1 -> 198.18.0.2: f413da6cd440b288c755163148b8af8f
 *   data: pack('!HHIIBBHHH', 40000, 179, 1001, 5001, 10 << 4, 0x18, 502, 0, 0)
 *         + nop, nop, md5 + b'hello\n'; key b'secret'
 *         198.18.0.1 -> 198.18.0.2: fdbdfda4b1f5bdcef5da043e8e7c3143
 *         2001:db8::1 -> 2001:db8::2: bb5b432476ff076ad166fb8117aec79c */
#include <config.h>
#include <sys/socket.h>
#include "hs/md5sig.h"
#include "hs/store.h"
#include "tap.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static size_t build(uint8_t *b, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win, uint16_t csum,
                    const uint8_t *opts, size_t optlen, const char *data)
{
	put16(b, 40000);
	put16(b + 2, 179);
	put32(b + 4, seq);
	put32(b + 8, ack);
	b[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	b[13] = flags;
	put16(b + 14, win);
	put16(b + 16, csum);
	put16(b + 18, 0);
	memcpy(b + 20, opts, optlen);
	size_t n = strlen(data);
	memcpy(b + 20 + optlen, data, n);
	return 20 + optlen + n;
}

static hs_endpoint ep(const char *a, uint16_t port)
{
	hs_endpoint e = { .port = port };
	hs_addr_parse(a, &e.addr);
	return e;
}

int main(void)
{
	uint8_t seg[200], d[16];
	char h[40];
	hs_md5_key key;
	char err[200];
	hs_endpoint c4 = ep("198.18.0.1", 40000), s4 = ep("198.18.0.2", 179);
	hs_endpoint c6 = ep("2001:db8::1", 40000), s6 = ep("2001:db8::2", 179);
	const uint8_t syn_opts[24] = { 2, 4, 5, 0xb4, 1, 1, 19, 18 };
	const uint8_t data_opts[20] = { 1, 1, 19, 18 };

	EQ_INT(hs_md5_key_parse("secret", &key, err, sizeof(err)), 0, "key parses");
	EQ_INT(key.len, 6, "key is its bytes as given");

	/* Known answers over whole segments. */
	size_t n = build(seg, 1000, 0, 0x02, 65535, 0xbeef, syn_opts, sizeof(syn_opts), "");
	EQ_INT(hs_md5sig_digest(&c4.addr, &s4.addr, seg, n, key.key, key.len, d), 0, "SYN digest");
	hex(d, 16, h);
	EQ_STR(h, "f413da6cd440b288c755163148b8af8f", "IPv4 SYN: known answer (checksum ignored)");
	n = build(seg, 1001, 5001, 0x18, 502, 0, data_opts, sizeof(data_opts), "hello\n");
	hs_md5sig_digest(&c4.addr, &s4.addr, seg, n, key.key, key.len, d);
	hex(d, 16, h);
	EQ_STR(h, "fdbdfda4b1f5bdcef5da043e8e7c3143", "IPv4 data: known answer");
	hs_md5sig_digest(&c6.addr, &s6.addr, seg, n, key.key, key.len, d);
	hex(d, 16, h);
	EQ_STR(h, "bb5b432476ff076ad166fb8117aec79c", "IPv6 data: known answer (32-bit length pseudo-header)");
	EQ_INT(hs_md5sig_digest(&c4.addr, &s4.addr, seg, 19, key.key, key.len, d), -1, "short header refused");

	/* Finding the option. */
	EQ_INT(hs_md5sig_find(syn_opts, sizeof(syn_opts)), 8, "digest after mss, nop, nop");
	EQ_INT(hs_md5sig_find(syn_opts, 4), -1, "no md5 option");
	const uint8_t bad_len[8] = { 19, 10, 0 };
	EQ_INT(hs_md5sig_find(bad_len, sizeof(bad_len)), -1, "md5 with a wrong length is not one");

	/* Signing an hs_tx: the option is added after the existing ones. */
	hs_tx tx = { .flags = 0x02, .seq = 1000, .win = 65535, .opt_len = 4, .opts = { 2, 4, 5, 0xb4 } };
	EQ_INT(hs_md5sig_sign_tx(&tx, &c4, &s4, &key, err, sizeof(err)), 0, "SYN signed");
	EQ_INT(tx.opt_len, 24, "nop, nop, md5 added");
	hex(tx.opts + 8, 16, h);
	EQ_STR(h, "f413da6cd440b288c755163148b8af8f", "signed SYN carries the known digest");
	uint8_t before[40];
	memcpy(before, tx.opts, 40);
	EQ_INT(hs_md5sig_sign_tx(&tx, &c4, &s4, &key, err, sizeof(err)), 0, "signing again");
	OK(tx.opt_len == 24 && memcmp(before, tx.opts, 40) == 0, "signing is idempotent (no second option)");

	hs_tx dtx = { .flags = 0x18, .seq = 1001, .ack = 5001, .win = 502,
	              .data = (const uint8_t *)"hello\n", .len = 6 };
	hs_md5sig_sign_tx(&dtx, &c6, &s6, &key, err, sizeof(err));
	hex(dtx.opts + 4, 16, h);
	EQ_STR(h, "bb5b432476ff076ad166fb8117aec79c", "IPv6 data segment signed: known digest");

	/* EOL padding is replaced, not kept in front of the option. */
	hs_tx etx = { .flags = 0x02, .opt_len = 4, .opts = { 3, 3, 7, 0 } };
	hs_md5sig_sign_tx(&etx, &c4, &s4, &key, err, sizeof(err));
	OK(etx.opt_len == 24 && etx.opts[3] == 1 && hs_md5sig_find(etx.opts, etx.opt_len) == 8,
	   "wscale + EOL: EOL becomes a NOP before nop, nop, md5");

	hs_tx full = { .flags = 0x10, .opt_len = 24 };
	memset(full.opts, 1, 24);
	EQ_INT(hs_md5sig_sign_tx(&full, &c4, &s4, &key, err, sizeof(err)), -1, "no room: refused");

	/* Checking decoded segments. */
	hs_segment s = { .src = c4, .dst = s4, .seq = 1001, .ack = 5001, .flags = 0x18, .win = 502,
	                 .payload = (const uint8_t *)"hello\n", .len = 6 };
	const char *derr;
	hs_tx d4 = dtx;
	d4.opt_len = 0;
	hs_md5sig_sign_tx(&d4, &c4, &s4, &key, err, sizeof(err));
	hs_opts_decode(d4.opts, d4.opt_len, &s.opts, &derr);
	EQ_INT(hs_md5sig_check(&s, &key), HS_MD5_OK, "signed segment: ok");
	hs_md5_key wrong;
	hs_md5_key_parse("secreT", &wrong, err, sizeof(err));
	EQ_INT(hs_md5sig_check(&s, &wrong), HS_MD5_BAD, "wrong key: bad");
	s.seq++;
	EQ_INT(hs_md5sig_check(&s, &key), HS_MD5_BAD, "changed header: bad");
	s.seq--;
	s.payload = (const uint8_t *)"hellO\n";
	EQ_INT(hs_md5sig_check(&s, &key), HS_MD5_BAD, "changed payload: bad");
	s.payload = (const uint8_t *)"hello\n";
	s.opts.raw_len = 0;
	EQ_INT(hs_md5sig_check(&s, &key), HS_MD5_MISSING, "no option: missing");
	hs_md5_key none = { 0 };
	EQ_INT(hs_md5sig_check(&s, &none), HS_MD5_UNCHECKED, "no key: unchecked");
	EQ_STR(hs_md5_status_name(HS_MD5_BAD), "bad", "status names");
	OK(hs_md5_status_name(HS_MD5_UNCHECKED) == NULL, "unchecked has no name");

	char k81[82];
	memset(k81, 'k', 81);
	k81[81] = 0;
	EQ_INT(hs_md5_key_parse(k81, &key, err, sizeof(err)), -1, "81-byte key refused");
	k81[80] = 0;
	EQ_INT(hs_md5_key_parse(k81, &key, err, sizeof(err)), 0, "80-byte key taken");
	EQ_INT(hs_md5_key_parse("", &key, err, sizeof(err)), -1, "empty key refused");

	/* The key kept with a record: hex, written only when there is one. */
	hs_conn_record rec = { .local = c4, .remote = s4, .state = HS_ESTABLISHED, .md5_key_len = 3,
	                       .md5_key = { 'a', 0, 0xff } };
	char text[4096];
	hs_conn_record back;
	OK(hs_record_format(&rec, text, sizeof(text)) > 0 && strstr(text, "\nmd5_key=6100ff\n"), "record: md5_key=HEX");
	EQ_INT(hs_record_parse(text, &back, err, sizeof(err)), 0, "record with a key parses");
	OK(back.md5_key_len == 3 && memcmp(back.md5_key, rec.md5_key, 3) == 0, "the key comes back, NUL byte included");
	rec.md5_key_len = 0;
	hs_record_format(&rec, text, sizeof(text));
	OK(!strstr(text, "md5_key"), "no key: no md5_key line");
	EQ_INT(hs_record_parse("local=198.18.0.1:1\nremote=198.18.0.2:2\nstate=ESTABLISHED\niss=1\nirs=1\n"
	                       "snd_una=1\nsnd_nxt=1\nrcv_nxt=1\nmd5_key=6g\n", &back, err, sizeof(err)), -1,
	       "md5_key that is not hex: refused");
	return tap_done();
}
