/* Addresses, ports, endpoints, and duration parsing (clock.c). */
#include <config.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "hs/addr.h"
#include "hs/clock.h"
#include "tap.h"

static void test_addr(void)
{
	hs_addr a, b;
	char buf[HS_ENDPOINT_STRLEN];
	const char *err = NULL;

	EQ_INT(hs_addr_parse("198.18.0.1", &a), 0, "v4 parses");
	EQ_INT(a.family, AF_INET, "v4 family");
	EQ_INT(ntohl(a.u.v4.s_addr), 0xc6120001, "v4 value");
	EQ_STR(hs_addr_format(&a, buf, sizeof(buf)), "198.18.0.1", "v4 format");
	EQ_INT(hs_addr_parse("2001:db8::1", &b), 0, "v6 parses");
	EQ_INT(b.family, AF_INET6, "v6 family");
	EQ_INT(b.u.v6.s6_addr[15], 1, "v6 value");
	EQ_STR(hs_addr_format(&b, buf, sizeof(buf)), "2001:db8::1", "v6 format");
	OK(!hs_addr_equal(&a, &b), "v4 != v6");
	hs_addr c;
	hs_addr_parse("198.18.0.1", &c);
	OK(hs_addr_equal(&a, &c), "same v4 equal");
	hs_addr_parse("198.18.0.2", &c);
	OK(!hs_addr_equal(&a, &c), "different v4 not equal");

	EQ_INT(hs_addr_parse("localhost", &a), -1, "names are not numeric");
	EQ_INT(hs_addr_parse("1.2.3", &a), -1, "short v4 rejected");
	EQ_INT(hs_addr_parse("1.2.3.256", &a), -1, "octet 256 rejected");
	EQ_INT(hs_addr_parse("", &a), -1, "empty rejected");
	EQ_INT(hs_addr_parse(" 1.2.3.4", &a), -1, "leading space rejected");

	char tiny[5];
	hs_addr_parse("198.18.0.1", &a);
	EQ_STR(hs_addr_format(&a, tiny, sizeof(tiny)), "198.", "format truncates safely");

	EQ_INT(hs_addr_resolve("198.18.0.7", 0, &a, &err), 0, "resolve numeric");
	EQ_INT(ntohl(a.u.v4.s_addr), 0xc6120007, "resolve numeric value");
	EQ_INT(hs_addr_resolve("198.18.0.7", AF_INET6, &a, &err), -1, "family mismatch refused");
	EQ_STR(err, "not an IPv6 address", "family mismatch message");
	EQ_INT(hs_addr_resolve("localhost", AF_INET, &a, &err), 0, "resolve localhost (v4)");
	EQ_INT(ntohl(a.u.v4.s_addr), 0x7f000001, "localhost is 127.0.0.1");
	err = NULL;
	EQ_INT(hs_addr_resolve("no-such-host.invalid", 0, &a, &err), -1, "unknown name fails");
	OK(err && *err, "unknown name has a message");
	EQ_INT(hs_addr_resolve("", 0, &a, &err), -1, "empty name fails");
}

static void test_port(void)
{
	uint16_t p = 0;

	EQ_INT(hs_port_parse("1", &p), 0, "port 1");
	EQ_INT(p, 1, "port 1 value");
	EQ_INT(hs_port_parse("65535", &p), 0, "port 65535");
	EQ_INT(p, 65535, "port 65535 value");
	EQ_INT(hs_port_parse("8080", &p), 0, "port 8080");
	EQ_INT(p, 8080, "port 8080 value");
	const char *bad[] = { "0", "65536", "-1", "8080x", "", " 80", "80 ", "+80", "0x50", "99999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "port \"%s\" rejected", bad[i]);
		p = 4242;
		OK(hs_port_parse(bad[i], &p) == -1 && p == 4242, what);
	}
}

static void test_endpoint(void)
{
	hs_endpoint e, f;
	char buf[HS_ENDPOINT_STRLEN];

	EQ_INT(hs_endpoint_parse("198.18.0.2:8080", &e), 0, "v4 endpoint");
	EQ_INT(e.port, 8080, "v4 endpoint port");
	EQ_STR(hs_endpoint_format(&e, buf, sizeof(buf)), "198.18.0.2:8080", "v4 endpoint format");
	EQ_INT(hs_endpoint_parse("[2001:db8::2]:443", &f), 0, "v6 endpoint");
	EQ_INT(f.addr.family, AF_INET6, "v6 endpoint family");
	EQ_INT(f.port, 443, "v6 endpoint port");
	EQ_STR(hs_endpoint_format(&f, buf, sizeof(buf)), "[2001:db8::2]:443", "v6 endpoint format");
	OK(!hs_endpoint_equal(&e, &f), "endpoints differ");
	hs_endpoint g;
	hs_endpoint_parse("198.18.0.2:8081", &g);
	OK(!hs_endpoint_equal(&e, &g), "port matters");
	hs_endpoint_parse("198.18.0.2:8080", &g);
	OK(hs_endpoint_equal(&e, &g), "same endpoint equal");

	const char *bad[] = { "198.18.0.2", "198.18.0.2:", "198.18.0.2:0", ":80", "2001:db8::2:80",
	                      "[2001:db8::2]80", "[2001:db8::2]", "[]:80", "host:80", "198.18.0.2:80x",
	                      "[2001:db8::2:80", "1.2.3.4:65536" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "endpoint \"%s\" rejected", bad[i]);
		OK(hs_endpoint_parse(bad[i], &e) == -1, what);
	}

	struct sockaddr_storage ss;
	hs_endpoint_parse("[2001:db8::2]:443", &f);
	EQ_INT(hs_endpoint_to_sockaddr(&f, &ss), sizeof(struct sockaddr_in6), "v6 sockaddr length");
	EQ_INT(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 443, "v6 sockaddr port");
	hs_endpoint_from_sockaddr(&ss, &g);
	OK(hs_endpoint_equal(&f, &g), "v6 sockaddr round trip");
	hs_endpoint_parse("198.18.0.2:8080", &e);
	EQ_INT(hs_endpoint_to_sockaddr(&e, &ss), sizeof(struct sockaddr_in), "v4 sockaddr length");
	hs_endpoint_from_sockaddr(&ss, &g);
	OK(hs_endpoint_equal(&e, &g), "v4 sockaddr round trip");
}

static void test_seconds(void)
{
	uint64_t ns = 0;

	EQ_INT(hs_seconds_parse("1", &ns), 0, "1 s");
	EQ_INT(ns, 1000000000, "1 s in ns");
	EQ_INT(hs_seconds_parse("0.25", &ns), 0, "0.25 s");
	EQ_INT(ns, 250000000, "0.25 s in ns");
	EQ_INT(hs_seconds_parse("2.5", &ns), 0, "2.5 s");
	EQ_INT(ns, 2500000000ull, "2.5 s in ns");
	EQ_INT(hs_seconds_parse("86400", &ns), 0, "a day");
	const char *bad[] = { "", "abc", "-1", "0", "1s", "0.0", "86401", " 1", "inf", "nan", "0x1", "1e3", "1..2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "seconds \"%s\" rejected", bad[i]);
		OK(hs_seconds_parse(bad[i], &ns) == -1, what);
	}
	uint64_t t1 = hs_now_ns(), t2 = hs_now_ns();
	OK(t1 > 0 && t2 >= t1, "monotonic clock advances");
}

int main(void)
{
	test_addr();
	test_port();
	test_endpoint();
	test_seconds();
	return tap_done();
}
