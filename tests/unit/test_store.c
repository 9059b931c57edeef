/* The store of kept connections: the record text form, and save/find/list/remove in a
 * temporary directory. Needs no privileges. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs/store.h"
#include "tap.h"

static char base[256];

static hs_endpoint endpoint(const char *text)
{
	hs_endpoint e;

	memset(&e, 0, sizeof(e));
	if (hs_endpoint_parse(text, &e) < 0)
		printf("# bad endpoint in test: %s\n", text);
	return e;
}

/* A record with every field set to something distinct from its default. */
static hs_conn_record sample(const char *local, const char *remote)
{
	hs_conn_record r;

	memset(&r, 0, sizeof(r));
	r.local = endpoint(local);
	r.remote = endpoint(remote);
	snprintf(r.iface, sizeof(r.iface), "hs-veth0");
	r.state = HS_ESTABLISHED;
	r.peer_state = HS_FIN_WAIT_1;
	r.iss = 4294967295u;
	r.irs = 123456789u;
	r.snd_una = 1u;
	r.snd_nxt = 2u;
	r.rcv_nxt = 123456790u;
	r.snd_wnd = 64240;
	r.rcv_wnd = 65535;
	r.peer_mss = 1460;
	r.snd_wscale = 7;
	r.rcv_wscale = 14;
	r.ws_ok = true;
	r.sack_ok = false;
	r.ts_ok = true;
	r.ts_recent = 3000000000u;
	r.ts_clock = 42;
	snprintf(r.guard, sizeof(r.guard), "hs_1234_0");
	r.created = 1700000000;
	r.pid = 1234;
	return r;
}

static bool same_record(const hs_conn_record *a, const hs_conn_record *b)
{
	return a->id == b->id && hs_endpoint_equal(&a->local, &b->local) &&
	       hs_endpoint_equal(&a->remote, &b->remote) && strcmp(a->iface, b->iface) == 0 &&
	       a->state == b->state && a->peer_state == b->peer_state && a->iss == b->iss &&
	       a->irs == b->irs && a->snd_una == b->snd_una && a->snd_nxt == b->snd_nxt &&
	       a->rcv_nxt == b->rcv_nxt && a->snd_wnd == b->snd_wnd && a->rcv_wnd == b->rcv_wnd &&
	       a->peer_mss == b->peer_mss && a->snd_wscale == b->snd_wscale &&
	       a->rcv_wscale == b->rcv_wscale && a->ws_ok == b->ws_ok && a->sack_ok == b->sack_ok &&
	       a->ts_ok == b->ts_ok && a->ts_recent == b->ts_recent && a->ts_clock == b->ts_clock &&
	       strcmp(a->guard, b->guard) == 0 && a->created == b->created && a->pid == b->pid;
}

/* The formatted sample with the line for key replaced by repl (NULL: dropped). */
static void edited(const char *key, const char *repl, char *out, size_t len)
{
	hs_conn_record r = sample("198.18.0.1:40000", "198.18.0.2:8080");
	char text[2048];
	const char *line;
	size_t klen = strlen(key), pos = 0;

	hs_record_format(&r, text, sizeof(text));
	out[0] = '\0';
	for (line = text; *line; ) {
		const char *eol = strchr(line, '\n');
		size_t n = eol ? (size_t)(eol - line) + 1 : strlen(line);
		bool match = strncmp(line, key, klen) == 0 && line[klen] == '=';
		if (!match)
			pos += (size_t)snprintf(out + pos, len - pos, "%.*s", (int)n, line);
		else if (repl)
			pos += (size_t)snprintf(out + pos, len - pos, "%s\n", repl);
		line += n;
	}
}

static void test_format_parse(void)
{
	hs_conn_record r = sample("198.18.0.1:40000", "198.18.0.2:8080"), back;
	char text[2048], err[256] = "";
	int n;

	r.id = 7;
	n = hs_record_format(&r, text, sizeof(text));
	OK(n > 0 && (size_t)n == strlen(text), "format returns the length written");
	OK(strstr(text, "\nlocal=198.18.0.1:40000\n") != NULL, "format: local endpoint line");
	OK(strstr(text, "\nremote=198.18.0.2:8080\n") != NULL, "format: remote endpoint line");
	OK(strstr(text, "\nstate=ESTABLISHED\n") != NULL, "format: state by its RFC name");
	OK(strstr(text, "\npeer_state=FIN-WAIT-1\n") != NULL, "format: peer state");
	OK(strstr(text, "\niss=4294967295\n") != NULL, "format: 32-bit numbers unsigned");
	OK(strstr(text, "\nguard=hs_1234_0\n") != NULL, "format: guard table");
	OK(strstr(text, "\nid=7\n") != NULL, "format: id");
	EQ_INT(hs_record_parse(text, &back, err, sizeof(err)), 0, "parse what format wrote");
	OK(same_record(&r, &back), "round trip keeps every field");

	r = sample("[2001:db8::1]:40000", "[2001:db8::2]:443");
	r.guard[0] = '\0';
	r.iface[0] = '\0';
	r.ws_ok = r.ts_ok = false;
	r.sack_ok = true;
	hs_record_format(&r, text, sizeof(text));
	OK(strstr(text, "\nremote=[2001:db8::2]:443\n") != NULL, "format: IPv6 endpoint in brackets");
	EQ_INT(hs_record_parse(text, &back, err, sizeof(err)), 0, "parse IPv6 record");
	OK(same_record(&r, &back), "IPv6 round trip, empty guard and iface");

	n = hs_record_format(&r, text, sizeof(text));
	EQ_INT(hs_record_format(&r, text, 40), -1, "format into a short buffer fails");
	EQ_INT(hs_record_format(&r, text, (size_t)n), -1, "format needs room for the NUL");
	EQ_INT(hs_record_format(&r, text, (size_t)n + 1), n, "exactly enough room");
}

static void test_parse_tolerant(void)
{
	hs_conn_record r;
	char text[2048], err[256] = "";
	const char *minimal = "local=198.18.0.1:1\nremote=198.18.0.2:2\nstate=SYN-SENT\n"
	                      "iss=1\nirs=2\nsnd_una=3\nsnd_nxt=4\nrcv_nxt=5";

	EQ_INT(hs_record_parse(minimal, &r, err, sizeof(err)), 0, "mandatory keys are enough (no final newline)");
	EQ_INT(r.state, HS_SYN_SENT, "state parsed");
	EQ_INT(r.rcv_nxt, 5, "last line without newline parsed");
	EQ_INT(r.id, 0, "id defaults to 0");
	EQ_STR(r.guard, "", "guard defaults to empty");
	OK(!r.ts_ok && r.peer_mss == 0, "optional fields default to zero");

	edited("iface", "future_key=whatever\n# a comment\n\n  iface = eth0 \r", text, sizeof(text));
	EQ_INT(hs_record_parse(text, &r, err, sizeof(err)), 0, "unknown keys, comments, blanks, CR and spaces are accepted");
	EQ_STR(r.iface, "eth0", "value trimmed");

	edited("ws_ok", "ws_ok=false", text, sizeof(text));
	EQ_INT(hs_record_parse(text, &r, err, sizeof(err)), 0, "boolean spelled false");
	OK(!r.ws_ok, "ws_ok=false");
}

static void expect_parse_error(const char *key, const char *repl, const char *needle, const char *what)
{
	hs_conn_record r;
	char text[2048], err[256] = "";

	edited(key, repl, text, sizeof(text));
	EQ_INT(hs_record_parse(text, &r, err, sizeof(err)), -1, what);
	if (!strstr(err, needle))
		printf("#   error \"%s\" does not mention \"%s\"\n", err, needle);
	OK(strstr(err, needle) != NULL, "  and the error says which");
}

static void test_parse_errors(void)
{
	hs_conn_record r;
	char err[256];
	static const char *const mandatory[] = { "local", "remote", "state", "iss", "irs", "snd_una", "snd_nxt", "rcv_nxt" };

	for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "missing %s is an error", mandatory[i]);
		expect_parse_error(mandatory[i], NULL, mandatory[i], what);
	}
	expect_parse_error("iss", "iss=abc", "iss", "non-numeric iss");
	expect_parse_error("iss", "iss=4294967296", "iss", "iss beyond 32 bits");
	expect_parse_error("iss", "iss=-1", "iss", "negative iss");
	expect_parse_error("iss", "iss=", "iss", "empty iss");
	expect_parse_error("peer_mss", "peer_mss=65536", "peer_mss", "mss beyond 16 bits");
	expect_parse_error("snd_wscale", "snd_wscale=15", "snd_wscale", "window scale above 14");
	expect_parse_error("local", "local=198.18.0.1", "local", "endpoint without port");
	expect_parse_error("remote", "remote=host:80", "remote", "endpoint with a name");
	expect_parse_error("state", "state=ESTABLISH", "state", "unknown state name");
	expect_parse_error("ws_ok", "ws_ok=2", "ws_ok", "boolean 2");
	expect_parse_error("guard", "guard=hs_1;flush ruleset", "guard", "guard name with nft syntax in it");
	expect_parse_error("iface", "iface=../etc", "iface", "interface name with a slash");
	expect_parse_error("iface", "iface=averyveryverylongname", "iface", "interface name too long");
	expect_parse_error("iss", "this line has no equals sign", "key=value", "line without '='");
	expect_parse_error("pid", "pid=1\niss=5", "twice", "key given twice");
	expect_parse_error("remote", "remote=[2001:db8::2]:80", "families", "mixed address families");
	EQ_INT(hs_record_parse("", &r, err, sizeof(err)), -1, "empty text is an error");
	EQ_INT(hs_record_parse(NULL, &r, err, sizeof(err)), -1, "NULL text is an error");
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void test_store(void)
{
	char dir[512], path[1024], err[512] = "";
	hs_conn_record a = sample("198.18.0.1:40000", "198.18.0.2:8080");
	hs_conn_record b = sample("198.18.0.1:40001", "198.18.0.2:8080");
	hs_conn_record c = sample("[2001:db8::1]:40002", "[2001:db8::2]:443");
	hs_conn_record list[8], got;
	char guards[4][HS_GUARD_NAMELEN];

	snprintf(dir, sizeof(dir), "%s/run/hs/ns-1", base);

	/* An empty (missing) store. */
	EQ_INT(hs_store_list(dir, list, 8, err, sizeof(err)), 0, "missing directory lists nothing");
	EQ_INT(hs_store_find(dir, NULL, &got, err, sizeof(err)), 1, "missing directory: most recent not found");
	OK(strstr(err, "no kept connection") != NULL, "  with a message");
	OK(!hs_store_local_in_use(dir, &a.local), "missing directory: nothing in use");
	EQ_INT(hs_store_guards(dir, guards, 4), 0, "missing directory: no guards");

	/* Saving creates the directory with its parents. */
	EQ_INT(hs_store_save(dir, &a, err, sizeof(err)), 0, "save first record");
	EQ_INT(a.id, 1, "first id is 1");
	EQ_INT(mode_of(dir), 0700, "store directory is 0700");
	snprintf(path, sizeof(path), "%s/run", base);
	EQ_INT(mode_of(path), 0700, "parents created too");
	snprintf(path, sizeof(path), "%s/1.conn", dir);
	EQ_INT(mode_of(path), 0600, "record file is 0600");
	EQ_INT(hs_store_save(dir, &b, err, sizeof(err)), 0, "save second");
	EQ_INT(b.id, 2, "second id is 2");
	c.guard[0] = '\0';
	EQ_INT(hs_store_save(dir, &c, err, sizeof(err)), 0, "save third (IPv6, no guard)");
	EQ_INT(c.id, 3, "third id is 3");

	EQ_INT(hs_store_list(dir, list, 8, err, sizeof(err)), 3, "list finds three");
	OK(same_record(&list[0], &a) && same_record(&list[1], &b) && same_record(&list[2], &c),
	   "list: oldest first, every field kept");
	EQ_STR(err, "", "list: no warning");
	EQ_INT(hs_store_list(dir, list, 2, err, sizeof(err)), 2, "list stops at max");
	EQ_INT(list[1].id, 2, "  keeping the oldest");

	/* Finding. */
	EQ_INT(hs_store_find(dir, NULL, &got, err, sizeof(err)), 0, "find most recent");
	EQ_INT(got.id, 3, "  is the highest id");
	EQ_INT(hs_store_find(dir, "", &got, err, sizeof(err)), 0, "find \"\" = most recent");
	EQ_INT(got.id, 3, "  is the highest id");
	EQ_INT(hs_store_find(dir, "1", &got, err, sizeof(err)), 0, "find by id");
	OK(same_record(&got, &a), "  the right record");
	EQ_INT(hs_store_find(dir, "99", &got, err, sizeof(err)), 1, "unknown id not found");
	EQ_STR(err, "no kept connection named 99 (see hs ls)", "  message names it");
	EQ_INT(hs_store_find(dir, "0", &got, err, sizeof(err)), 1, "id 0 not found");
	EQ_INT(hs_store_find(dir, "198.18.0.1:40001-198.18.0.2:8080", &got, err, sizeof(err)), 0, "find LOCAL-REMOTE");
	EQ_INT(got.id, 2, "  the right one");
	EQ_INT(hs_store_find(dir, "198.18.0.2:8080", &got, err, sizeof(err)), 0, "find REMOTE");
	EQ_INT(got.id, 2, "  the most recent of two with that remote");
	EQ_INT(hs_store_find(dir, "198.18.0.1:40000", &got, err, sizeof(err)), 0, "find LOCAL");
	EQ_INT(got.id, 1, "  the right one");
	EQ_INT(hs_store_find(dir, "198.18.0.2", &got, err, sizeof(err)), 0, "find a bare remote address");
	EQ_INT(got.id, 2, "  the most recent with that address");
	EQ_INT(hs_store_find(dir, "198.18.0.1", &got, err, sizeof(err)), 1, "a bare local address does not match");
	EQ_INT(hs_store_find(dir, "[2001:db8::2]:443", &got, err, sizeof(err)), 0, "find IPv6 REMOTE");
	EQ_INT(got.id, 3, "  the right one");
	EQ_INT(hs_store_find(dir, "[2001:db8::1]:40002-[2001:db8:0::2]:443", &got, err, sizeof(err)), 0,
	       "find IPv6 LOCAL-REMOTE, non-canonical spelling");
	EQ_INT(got.id, 3, "  the right one");
	EQ_INT(hs_store_find(dir, "198.18.0.1:40000-198.18.0.2:9999", &got, err, sizeof(err)), 1, "wrong REMOTE not found");
	EQ_STR(err, "no kept connection named 198.18.0.1:40000-198.18.0.2:9999 (see hs ls)", "  message names it");
	EQ_INT(hs_store_find(dir, "nonsense", &got, err, sizeof(err)), 1, "garbage name not found");
	EQ_STR(err, "no kept connection named nonsense (see hs ls)", "  message names it");

	/* Replacing keeps the id and the count. */
	b.state = HS_CLOSE_WAIT;
	b.snd_nxt = 3;
	EQ_INT(hs_store_save(dir, &b, err, sizeof(err)), 0, "save again replaces");
	EQ_INT(b.id, 2, "  same id");
	EQ_INT(hs_store_find(dir, "2", &got, err, sizeof(err)), 0, "find the replaced one");
	OK(got.state == HS_CLOSE_WAIT && got.snd_nxt == 3, "  with the new values");
	EQ_INT(hs_store_list(dir, list, 8, err, sizeof(err)), 3, "still three");

	/* In use, guards. */
	OK(hs_store_local_in_use(dir, &a.local), "local endpoint of a record is in use");
	hs_endpoint other = endpoint("198.18.0.1:40009"), anyaddr = { .port = 40001 };
	OK(!hs_store_local_in_use(dir, &other), "another port is not");
	OK(hs_store_local_in_use(dir, &anyaddr), "the port with no address is");
	hs_endpoint otheraddr = endpoint("198.18.0.9:40000");
	OK(!hs_store_local_in_use(dir, &otheraddr), "the port on another address is not");
	EQ_INT(hs_store_guards(dir, guards, 4), 2, "two records have a guard");
	EQ_STR(guards[0], "hs_1234_0", "  named");
	EQ_INT(hs_store_guards(dir, guards, 1), -1, "more guards than room is an error, not a short list");

	/* Removing; ids are not reused below the maximum. */
	EQ_INT(hs_store_remove(dir, 2), 0, "remove id 2");
	EQ_INT(hs_store_remove(dir, 2), -1, "remove it again fails");
	EQ_INT(hs_store_find(dir, "2", &got, err, sizeof(err)), 1, "removed one is gone");
	EQ_INT(hs_store_list(dir, list, 8, err, sizeof(err)), 2, "two left");
	hs_conn_record d = sample("198.18.0.1:40003", "198.18.0.2:8080");
	EQ_INT(hs_store_save(dir, &d, err, sizeof(err)), 0, "save after a removal");
	EQ_INT(d.id, 4, "  gets max + 1, not the freed id");

	/* Corrupted and foreign files. */
	write_file(dir, "5.conn", "local=garbage\n", 14);
	write_file(dir, "notes.txt", "x", 1);
	write_file(dir, "007.conn", "x", 1);
	write_file(dir, ".12345.0.tmp", "x", 1);
	EQ_INT(hs_store_list(dir, list, 8, err, sizeof(err)), 3, "list skips the corrupted and foreign files");
	OK(strstr(err, "5.conn") && strstr(err, "corrupted"), "  and warns about the corrupted one");
	EQ_INT(hs_store_find(dir, "5", &got, err, sizeof(err)), -1, "find a corrupted record by id: error");
	OK(strstr(err, "5.conn") && strstr(err, "local"), "  naming the file and the bad key");
	EQ_INT(hs_store_find(dir, NULL, &got, err, sizeof(err)), 0, "most recent skips a corrupted newest");
	EQ_INT(got.id, 4, "  and finds the newest good one");
	hs_conn_record e = sample("198.18.0.1:40004", "198.18.0.2:8080");
	EQ_INT(hs_store_save(dir, &e, err, sizeof(err)), 0, "save with a corrupted file present");
	EQ_INT(e.id, 6, "  does not take the corrupted file's id");

	char big[8192];
	memset(big, 'x', sizeof(big));
	write_file(dir, "7.conn", big, sizeof(big));
	EQ_INT(hs_store_find(dir, "7", &got, err, sizeof(err)), -1, "oversized file is an error");
	OK(strstr(err, "too large") != NULL, "  saying so");
	write_file(dir, "8.conn", "local=198.18.0.1:1\0", 19);
	EQ_INT(hs_store_find(dir, "8", &got, err, sizeof(err)), -1, "file with NUL bytes is an error");
	snprintf(path, sizeof(path), "%s/9.conn", dir);
	mkdir(path, 0700);
	EQ_INT(hs_store_find(dir, "9", &got, err, sizeof(err)), -1, "a directory named like a record is an error");
	char text[2048];
	edited("iss", NULL, text, sizeof(text));
	write_file(dir, "10.conn", text, strlen(text));
	EQ_INT(hs_store_find(dir, "10", &got, err, sizeof(err)), -1, "record missing a mandatory key is an error");
	OK(strstr(err, "missing iss") != NULL, "  naming the key");
	EQ_INT(hs_store_list(dir, list, 8, err, sizeof(err)), 4, "list still shows the four good ones");
	EQ_INT(hs_store_find(dir, "198.18.0.1:40004", &got, err, sizeof(err)), 0, "find by endpoint past corrupted files");
	EQ_INT(got.id, 6, "  the right one");

	/* A file where the directory should be. */
	char blocked[1100];
	snprintf(path, sizeof(path), "%s/file", base);
	write_file(base, "file", "x", 1);
	snprintf(blocked, sizeof(blocked), "%s/sub", path);
	EQ_INT(hs_store_save(blocked, &a, err, sizeof(err)), -1, "cannot save below a regular file");
	OK(strstr(err, "cannot create state directory") != NULL, "  saying why");
}

/* hs_record_validate: only what hs itself writes. */
static void expect_invalid(const char *key, const char *repl, const char *needle, const char *what)
{
	char text[2048], err[512] = "";
	hs_conn_record r;

	edited(key, repl, text, sizeof(text));
	if (hs_record_parse(text, &r, err, sizeof(err)) < 0) {
		OK(false, what);
		printf("# parse failed: %s\n", err);
		return;
	}
	EQ_INT(hs_record_validate(&r, err, sizeof(err)), -1, what);
	if (!strstr(err, needle))
		printf("# message \"%s\" lacks \"%s\"\n", err, needle);
	OK(strstr(err, needle) != NULL, "  with its reason");
}

static void test_validate(void)
{
	static const char *const unkept[] = { "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "FIN-WAIT-1",
	                                      "FIN-WAIT-2", "CLOSING", "LAST-ACK", "TIME-WAIT" };
	hs_conn_record r = sample("198.18.0.1:40000", "198.18.0.2:8080");
	char line[64], err[512];

	EQ_INT(hs_record_validate(&r, err, sizeof(err)), 0, "validate: the sample is one hs writes");
	r.state = HS_CLOSE_WAIT;
	EQ_INT(hs_record_validate(&r, err, sizeof(err)), 0, "validate: CLOSE-WAIT is kept");
	r.guard[0] = '\0';
	EQ_INT(hs_record_validate(&r, err, sizeof(err)), 0, "validate: no guard is fine");
	for (size_t i = 0; i < sizeof(unkept) / sizeof(unkept[0]); i++) {
		snprintf(line, sizeof(line), "state=%s", unkept[i]);
		expect_invalid("state", line, "is not one hs keeps", line);
	}
	expect_invalid("peer_state", "peer_state=LISTEN", "peer_state LISTEN", "peer LISTEN");
	expect_invalid("peer_state", "peer_state=TIME-WAIT", "peer_state TIME-WAIT", "peer TIME-WAIT");
	expect_invalid("local", "local=0.0.0.0:40000", "local 0.0.0.0:40000", "local unspecified address");
	expect_invalid("remote", "remote=0.0.0.0:80", "remote 0.0.0.0:80", "remote unspecified address");
	/* Port 0 and mixed families: the parser already refuses them (test_parse_errors). */
	expect_invalid("guard", "guard=hs_0_1", "not an hs table name", "guard pid 0");
	expect_invalid("guard", "guard=hs_12", "not an hs table name", "guard without a number");
	expect_invalid("guard", "guard=hs_12_", "not an hs table name", "guard with an empty number");
	expect_invalid("guard", "guard=filter", "not an hs table name", "another table's name");
	expect_invalid("guard", "guard=hs_1_0x", "not an hs table name", "guard with letters");
	expect_invalid("snd_una", "snd_una=4294967295", "not in order", "snd_una before our SYN");
	expect_invalid("snd_nxt", "snd_nxt=0", "not in order", "snd_nxt before snd_una");
	expect_invalid("snd_nxt", "snd_nxt=2000000000", "not in order", "snd_nxt a gigabyte past snd_una");
	expect_invalid("rcv_nxt", "rcv_nxt=123456789", "before the peer's SYN", "rcv_nxt at the peer's SYN");
	r = sample("198.18.0.1:40000", "198.18.0.2:8080");
	r.iss = 4294967290u; /* sequence numbers that wrap */
	r.snd_una = 4294967295u;
	r.snd_nxt = 10;
	r.irs = 4294967295u;
	r.rcv_nxt = 0;
	EQ_INT(hs_record_validate(&r, err, sizeof(err)), 0, "validate: wrapped sequence numbers are in order");
}

/* hs_guard_listing_matches: the table's rule must be the record's 4-tuple. */
static void test_guard_listing(void)
{
	hs_endpoint l = endpoint("198.18.0.1:40000"), r = endpoint("198.18.0.2:8080");
	hs_endpoint l6 = endpoint("[2001:db8::1]:4000"), r6 = endpoint("[2001:db8::2]:80");
	const char *conn = "table inet hs_12_0 {\n\tcomment \"hs guard for x\"\n\tchain in {\n"
	                   "\t\ttype filter hook input priority raw; policy accept;\n"
	                   "\t\tip saddr 198.18.0.2 ip daddr 198.18.0.1 tcp sport 8080 tcp dport 40000 drop "
	                   "comment \"hs guard for 198.18.0.1:40000 -> 198.18.0.2:8080\"\n\t}\n}\n";
	const char *bare = "table inet hs_12_0 {\n\tchain in {\n\t\ttype filter hook input priority raw; policy accept;\n"
	                   "\t\tip saddr 198.18.0.2 tcp sport 8080 tcp dport 40000 drop\n\t}\n}\n";
	const char *listen = "table inet hs_12_0 {\n\tchain in {\n\t\ttype filter hook input priority raw; policy accept;\n"
	                     "\t\ttcp dport 40000 drop comment \"hs guard for listen *:40000\"\n\t}\n}\n";
	const char *two = "table inet hs_12_0 {\n\tchain in {\n\t\ttype filter hook input priority raw; policy accept;\n"
	                  "\t\tip saddr 198.18.0.2 ip daddr 198.18.0.1 tcp sport 8080 tcp dport 40000 drop\n"
	                  "\t\ttcp dport 22 drop\n\t}\n}\n";
	const char *v6 = "table inet hs_12_1 {\n\tchain in {\n\t\ttype filter hook input priority raw; policy accept;\n"
	                 "\t\tip6 saddr 2001:db8::2 ip6 daddr 2001:db8::1 tcp sport 80 tcp dport 4000 drop\n\t}\n}\n";
	hs_endpoint other = endpoint("198.18.0.1:40001");

	OK(hs_guard_listing_matches(conn, &l, &r), "guard listing: the 4-tuple's rule matches");
	OK(hs_guard_listing_matches(bare, &l, &r), "guard listing: a rule without the local address matches");
	OK(!hs_guard_listing_matches(conn, &other, &r), "guard listing: another local port does not");
	OK(!hs_guard_listing_matches(conn, &r, &l), "guard listing: the reverse direction does not");
	OK(!hs_guard_listing_matches(listen, &l, &r), "guard listing: a listen guard (whole port) does not");
	OK(!hs_guard_listing_matches(two, &l, &r), "guard listing: a second rule makes it not ours");
	OK(hs_guard_listing_matches(v6, &l6, &r6), "guard listing: IPv6");
	OK(!hs_guard_listing_matches(v6, &l, &r), "guard listing: IPv6 table, IPv4 record");
	OK(!hs_guard_listing_matches("", &l, &r), "guard listing: empty");
	OK(!hs_guard_listing_matches(NULL, &l, &r), "guard listing: NULL");
}

/* Directories and records that are not ours to trust. */
static void test_refusals(void)
{
	char dir[512], link[600], path[700], err[600], text[2048];
	hs_conn_record a = sample("198.18.0.1:40000", "198.18.0.2:8080"), got;
	hs_conn_record list[4];

	snprintf(dir, sizeof(dir), "%s/refuse", base);
	EQ_INT(hs_store_save(dir, &a, err, sizeof(err)), 0, "refusals: a good store");
	EQ_INT(hs_store_check(dir, err, sizeof(err)), 0, "  passes the check");
	snprintf(path, sizeof(path), "%s/nonexistent", base);
	EQ_INT(hs_store_check(path, err, sizeof(err)), 0, "a missing directory passes (empty store)");

	/* Writable by others or the group. */
	chmod(dir, 0777);
	EQ_INT(hs_store_check(dir, err, sizeof(err)), -1, "a world-writable directory is refused");
	OK(strstr(err, "writable by others") && strstr(err, "refused"), "  saying so");
	EQ_INT(hs_store_list(dir, list, 4, err, sizeof(err)), -1, "  listing it fails");
	EQ_INT(hs_store_find(dir, "1", &got, err, sizeof(err)), -1, "  finding in it fails");
	EQ_INT(hs_store_save(dir, &a, err, sizeof(err)), -1, "  saving into it fails");
	OK(!hs_store_local_in_use(dir, &a.local), "  nothing in it counts");
	chmod(dir, 0770);
	EQ_INT(hs_store_check(dir, err, sizeof(err)), -1, "a group-writable directory is refused");
	OK(strstr(err, "writable by its group") != NULL, "  saying so");
	chmod(dir, 0700);

	/* A symbolic link to the directory, with or without a trailing slash. */
	snprintf(link, sizeof(link), "%s/link", base);
	OK(symlink(dir, link) == 0, "make a link to the store");
	EQ_INT(hs_store_check(link, err, sizeof(err)), -1, "a symlinked directory is refused");
	OK(strstr(err, "symbolic link") != NULL, "  saying so");
	snprintf(path, sizeof(path), "%s/", link);
	EQ_INT(hs_store_check(path, err, sizeof(err)), -1, "  with a trailing slash too");
	hs_conn_record b = sample("198.18.0.1:40001", "198.18.0.2:8080");
	EQ_INT(hs_store_save(link, &b, err, sizeof(err)), -1, "  nothing saved through it");
	snprintf(path, sizeof(path), "%s/2.conn", dir);
	OK(access(path, F_OK) < 0, "  nothing written in the target");

	/* Records: a FIFO, a link, a writable one, a state hs does not keep. */
	snprintf(path, sizeof(path), "%s/3.conn", dir);
	OK(mkfifo(path, 0600) == 0, "make a FIFO named like a record");
	EQ_INT(hs_store_find(dir, "3", &got, err, sizeof(err)), -1, "a FIFO record is refused (and does not block)");
	OK(strstr(err, "not a regular file") != NULL, "  saying so");
	snprintf(path, sizeof(path), "%s/4.conn", dir);
	snprintf(link, sizeof(link), "%s/1.conn", dir);
	OK(symlink(link, path) == 0, "make a record that is a link");
	EQ_INT(hs_store_find(dir, "4", &got, err, sizeof(err)), -1, "a symlinked record is refused");
	OK(strstr(err, "symbolic link") != NULL, "  saying so");
	hs_record_format(&b, text, sizeof(text));
	write_file(dir, "5.conn", text, strlen(text));
	snprintf(path, sizeof(path), "%s/5.conn", dir);
	chmod(path, 0666);
	EQ_INT(hs_store_find(dir, "5", &got, err, sizeof(err)), -1, "a world-writable record is refused");
	OK(strstr(err, "5.conn is writable by others") != NULL, "  naming it");
	edited("state", "state=TIME-WAIT", text, sizeof(text));
	write_file(dir, "6.conn", text, strlen(text));
	EQ_INT(hs_store_find(dir, "6", &got, err, sizeof(err)), -1, "a record in TIME-WAIT is refused");
	OK(strstr(err, "6.conn refused: state TIME-WAIT") != NULL, "  naming it and the state");

	/* The listing names each problem and has no limit. */
	hs_store_listing all;
	EQ_INT(hs_store_list_all(dir, &all, err, sizeof(err)), 0, "list_all with bad records");
	EQ_INT(all.n, 1, "  one good record");
	EQ_INT(all.nbad, 4, "  four bad ones");
	OK(all.nbad == 4 && all.bad[0].id == 3 && all.bad[1].id == 4 && all.bad[2].id == 5 && all.bad[3].id == 6,
	   "  in id order");
	OK(all.nbad == 4 && strcmp(all.bad[0].name, "3.conn") == 0 && strstr(all.bad[0].why, "3.conn"),
	   "  each by name");
	hs_store_listing_free(&all);
	for (int i = 0; i < 300; i++) {
		hs_conn_record c = sample("198.18.0.1:40000", "198.18.0.2:8080");
		c.local.port = (uint16_t)(41000 + i);
		if (hs_store_save(dir, &c, err, sizeof(err)) < 0)
			break;
	}
	EQ_INT(hs_store_list_all(dir, &all, err, sizeof(err)), 0, "list_all with 301 records");
	EQ_INT(all.n, 301, "  all of them");
	hs_store_listing_free(&all);
	EQ_INT(hs_store_list(dir, list, 4, err, sizeof(err)), 4, "hs_store_list stops at max");
	OK(strstr(err, "only the first 4") != NULL, "  and says so");

	/* The host check runs on every record read. */
	hs_store_host_check = hs_record_check_host;
	EQ_INT(hs_store_find(dir, "1", &got, err, sizeof(err)), -1, "host check: 198.18.0.1 is not this host's");
	OK(strstr(err, "1.conn refused: ") != NULL, "  naming the record");
	hs_store_host_check = NULL;
}

static void test_host_check(void)
{
	hs_conn_record r = sample("127.0.0.1:40000", "127.0.0.2:8080");
	char err[512];

	r.iface[0] = '\0';
	r.guard[0] = '\0';
	EQ_INT(hs_record_check_host(&r, err, sizeof(err)), 0, "host check: 127.0.0.1 is this host's");
	r.local = endpoint("198.51.100.77:40000");
	r.remote = endpoint("198.51.100.78:8080");
	EQ_INT(hs_record_check_host(&r, err, sizeof(err)), -1, "host check: 198.51.100.77 is not");
	OK(strstr(err, "198.51.100.77 is not an address of this host") != NULL, "  saying so");
	r.local = endpoint("127.0.0.1:40000");
	snprintf(r.iface, sizeof(r.iface), "hs-no-such0");
	EQ_INT(hs_record_check_host(&r, err, sizeof(err)), -1, "host check: an interface that does not exist");
	OK(strstr(err, "hs-no-such0") != NULL, "  named");
}

/* Ids never overflow: past INT_MAX the smallest free one; the store is checked
 * before a connection that is to be kept starts. */
static void test_ids(void)
{
	char dir[512], err[512] = "";
	const int none[1] = { 0 }, some[] = { 1, 2, 5 }, top[] = { 1, 2, 2147483647 }, low[] = { 2, 2147483647 };
	const int full[] = { 1, 2, 3, 2147483647 };
	hs_conn_record a = sample("198.18.0.1:40000", "198.18.0.2:8080");
	hs_conn_record b = sample("198.18.0.1:40001", "198.18.0.2:8080");

	EQ_INT(hs_store_id_after(none, 0), 1, "first id: 1");
	EQ_INT(hs_store_id_after(some, 3), 6, "then max + 1");
	EQ_INT(hs_store_id_after(top, 3), 3, "max is INT_MAX: the smallest free id");
	EQ_INT(hs_store_id_after(low, 2), 1, "  1 when free");
	EQ_INT(hs_store_id_after(full, 4), 4, "  past a run from 1");

	snprintf(dir, sizeof(dir), "%s/ids", base);
	EQ_INT(hs_store_prepare(dir, err, sizeof(err)), 0, "prepare creates the store");
	EQ_INT(mode_of(dir), 0700, "  0700");
	write_file(dir, "2147483647.conn", "# not a record\n", 15);
	EQ_INT(hs_store_prepare(dir, err, sizeof(err)), 0, "prepare with 2147483647.conn present");
	EQ_INT(hs_store_save(dir, &a, err, sizeof(err)), 0, "save with 2147483647.conn present");
	EQ_INT(a.id, 1, "  gets id 1");
	EQ_INT(hs_store_save(dir, &b, err, sizeof(err)), 0, "save another");
	EQ_INT(b.id, 2, "  gets id 2");

	EQ_INT(hs_store_prepare("/proc/nonexistent/x", err, sizeof(err)), -1, "prepare in /proc/nonexistent/x fails");
	OK(strstr(err, "/proc/nonexistent/x") != NULL, "  naming the directory");
	EQ_INT(hs_store_prepare("/proc/1", err, sizeof(err)), -1, "prepare in a directory that cannot be written fails");
	OK(strstr(err, "cannot write") != NULL, "  saying so");

	/* A kept record's guard names itself kept: no stale cleanup takes it. */
	OK(hs_guard_is_kept_name("hs_kept_1234_0"), "hs_kept_<pid>_<n> is a kept guard");
	OK(!hs_guard_is_kept_name("hs_1234_0"), "hs_<pid>_<n> is not");
	OK(!hs_guard_is_kept_name("hs_kept_x_0") && !hs_guard_is_kept_name("hs_kept_1234") &&
	   !hs_guard_is_kept_name("hs_kept_"), "malformed kept names are not");
}

static void test_default_dir(void)
{
	char buf[64], want[64], legacy[64];
	struct stat st;
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	OK(stat("/proc/self/ns/net", &st) == 0, "stat our network namespace");
	OK(fd >= 0 && getsockopt(fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &len) == 0, "netns cookie");
	if (fd >= 0)
		close(fd);
	snprintf(want, sizeof(want), "/run/hs/netns-%llu", (unsigned long long)cookie);
	snprintf(legacy, sizeof(legacy), "/run/hs/ns-%lu", (unsigned long)st.st_ino);
	EQ_INT(hs_store_default_dir(buf, sizeof(buf)), 0, "default dir");
	/* An inode-keyed store an earlier hs left with records here is still used. */
	OK(strcmp(buf, want) == 0 || (strcmp(buf, legacy) == 0 && access(legacy, F_OK) == 0),
	   "  named after the namespace cookie, not its reusable inode");
	EQ_INT(hs_store_default_dir(buf, 8), -1, "short buffer fails");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* RFC 7413 cookie cache: per peer, replaced in place, other peers kept, 0600, and a
 * cache that is a link is refused. */
static void test_tfo_cookies(void)
{
	char dir[300], path[340], err[512];
	uint8_t c[16], n = 0;
	static const uint8_t a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[4] = { 0xaa, 0xbb, 0xcc, 0xdd };
	hs_endpoint p1 = endpoint("198.18.0.2:8080"), p2 = endpoint("198.18.0.2:8081");
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/tfo", base);
	EQ_INT(hs_store_tfo_get(dir, &p1, c, &n, err, sizeof(err)), 1, "tfo: no store, no cookie");
	EQ_INT(hs_store_tfo_put(dir, &p1, a, 8, err, sizeof(err)), 0, "tfo: put p1");
	EQ_INT(hs_store_tfo_put(dir, &p2, b, 4, err, sizeof(err)), 0, "tfo: put p2");
	EQ_INT(hs_store_tfo_get(dir, &p1, c, &n, err, sizeof(err)), 0, "tfo: get p1");
	OK(n == 8 && memcmp(c, a, 8) == 0, "tfo: p1's cookie");
	EQ_INT(hs_store_tfo_put(dir, &p1, b, 4, err, sizeof(err)), 0, "tfo: replace p1");
	EQ_INT(hs_store_tfo_get(dir, &p1, c, &n, err, sizeof(err)), 0, "tfo: get p1 again");
	OK(n == 4 && memcmp(c, b, 4) == 0, "tfo: p1's new cookie");
	EQ_INT(hs_store_tfo_get(dir, &p2, c, &n, err, sizeof(err)), 0, "tfo: p2 kept");
	hs_endpoint p3 = endpoint("198.18.0.3:8080");
	EQ_INT(hs_store_tfo_get(dir, &p3, c, &n, err, sizeof(err)), 1, "tfo: another peer: none");
	snprintf(path, sizeof(path), "%s/tfo-cookies", dir);
	OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "tfo: the cache is 0600");
	OK(unlink(path) == 0 && symlink("/etc/passwd", path) == 0, "tfo: the cache made a link");
	EQ_INT(hs_store_tfo_get(dir, &p1, c, &n, err, sizeof(err)), -1, "tfo: a link is refused");
	OK(strstr(err, "symbolic link") != NULL, "tfo: and says so");
	EQ_INT(hs_store_tfo_put(dir, &p1, a, 8, err, sizeof(err)), -1, "tfo: not written through a link");
	unlink(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	/* The records' addresses are not this host's: the host checks have their own tests. */
	hs_store_host_check = NULL;
	umask(022);
	snprintf(base, sizeof(base), "%s/hs-test-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		printf("Bail out! mkdtemp %s: %s\n", base, strerror(errno));
		return 1;
	}
	test_format_parse();
	test_parse_tolerant();
	test_parse_errors();
	test_store();
	test_validate();
	test_guard_listing();
	test_refusals();
	test_host_check();
	test_ids();
	test_default_dir();
	test_tfo_cookies();
	nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
