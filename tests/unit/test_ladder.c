/* The ladder view (--ladder): synthetic connections rendered byte for byte against
 * golden files (tests/unit/golden/NAME-WIDTH-utf8|ascii.txt), and properties that hold
 * at every width: no row wider than the width, colors only when asked for.
 *
 * HS_GOLDEN_UPDATE=1 writes the golden files instead of comparing (look at them
 * before committing). The directory: $HS_GOLDEN_DIR, else $srcdir/tests/unit/golden
 * (make check), else tests/unit/golden. */
#include <config.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/event.h"
#include "hs/output.h"
#include "hs/summary.h"
#include "tap.h"

/* OK with a printf-style description. */
#define OKF(cond, ...) do { char d_[8192]; if (snprintf(d_, sizeof(d_), __VA_ARGS__) < 0) d_[0] = 0; OK(cond, d_); } while (0)

/* ---- building a connection's events ------------------------------------------------ */

#define MAXEV 64

typedef struct script {
	hs_event ev[MAXEV];
	hs_segment seg[MAXEV];
	int n;
	hs_endpoint ends[2];  /* OUT's sender, the other */
	uint32_t isn[2];      /* each side's ISN: relative numbers from it */
	hs_summary none;      /* a summary without figures: the goldens do not depend on summary.c */
} script;

static void ep(hs_endpoint *e, const char *addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->addr.family = AF_INET;
	inet_pton(AF_INET, addr, &e->addr.u.v4);
	e->port = port;
}

static void script_init(script *s)
{
	memset(s, 0, sizeof(*s));
	ep(&s->ends[0], "198.18.0.1", 40000);
	ep(&s->ends[1], "198.18.0.2", 80);
	s->isn[0] = 1000;
	s->isn[1] = 5000;
	hs_summary_init(&s->none);
}

static hs_event *add(script *s, enum hs_ev_type type, uint64_t t_us)
{
	hs_event *ev = &s->ev[s->n++];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->t_ns = t_us * 1000;
	return ev;
}

static void open_ev(script *s, bool observed, int conn)
{
	hs_event *ev = add(s, HS_EV_OPEN, 0);
	ev->local = &s->ends[0];
	ev->remote = &s->ends[1];
	ev->observed = observed;
	ev->local_name = observed ? "A" : "us";
	ev->remote_name = observed ? "B" : "peer";
	ev->conn_index = conn;
}

/* A segment with relative seq/ack; st/peer: the states after it. */
static hs_event *seg(script *s, uint64_t t_us, enum hs_dir dir, uint8_t flags, uint32_t rseq, uint32_t rack,
                     const char *data, hs_state st, hs_state peer)
{
	hs_segment *g = &s->seg[s->n];
	hs_event *ev = add(s, HS_EV_SEGMENT, t_us);
	int from = dir == HS_DIR_OUT ? 0 : 1;

	memset(g, 0, sizeof(*g));
	g->src = s->ends[from];
	g->dst = s->ends[1 - from];
	g->flags = flags;
	g->seq = s->isn[from] + rseq;
	g->ack = (flags & HS_ACK) ? s->isn[1 - from] + rack : 0;
	g->win = 64240;
	g->ttl = 64;
	g->payload = (const uint8_t *)data;
	g->len = data ? strlen(data) : 0;
	ev->dir = dir;
	ev->seg = g;
	ev->rseq = rseq;
	ev->rack = (flags & HS_ACK) ? rack : 0;
	ev->state = st;
	ev->peer_state = peer;
	return ev;
}

static void state_ev(script *s, uint64_t t_us, bool peer, hs_state from, hs_state to, const char *why, bool by_segment,
                     bool by_call)
{
	hs_event *ev = add(s, HS_EV_STATE, t_us);
	ev->change = (hs_change){ .peer = peer, .from = from, .to = to, .why = why };
	ev->by_segment = by_segment;
	ev->by_call = by_call;
}

static void result_ev(script *s, uint64_t t_us, const char *outcome, hs_state st, hs_state peer)
{
	hs_event *ev = add(s, HS_EV_RESULT, t_us);
	ev->outcome = outcome;
	ev->local = &s->ends[0];
	ev->remote = &s->ends[1];
	ev->final_state = st;
	ev->final_peer_state = peer;
	ev->summary = &s->none;
}

/* hs connect, "hello" each way, an active close, TIME-WAIT's end. */
static void handshake_close(script *s)
{
	script_init(s);
	open_ev(s, false, 0);
	state_ev(s, 5, false, HS_CLOSED, HS_SYN_SENT, "connect", false, true);
	seg(s, 10, HS_DIR_OUT, HS_SYN, 0, 0, NULL, HS_SYN_SENT, HS_LISTEN)->peer_assumed = true;
	seg(s, 61, HS_DIR_IN, HS_SYN | HS_ACK, 0, 1, NULL, HS_ESTABLISHED, HS_SYN_RECEIVED);
	state_ev(s, 61, false, HS_SYN_SENT, HS_ESTABLISHED, "SYN,ACK received", true, false);
	seg(s, 83, HS_DIR_OUT, HS_ACK, 1, 1, NULL, HS_ESTABLISHED, HS_ESTABLISHED)->peer_assumed = true;
	seg(s, 120, HS_DIR_OUT, HS_PSH | HS_ACK, 1, 1, "hello", HS_ESTABLISHED, HS_ESTABLISHED);
	seg(s, 171, HS_DIR_IN, HS_ACK, 1, 6, NULL, HS_ESTABLISHED, HS_ESTABLISHED);
	seg(s, 190, HS_DIR_IN, HS_PSH | HS_ACK, 1, 6, "hello\r\n", HS_ESTABLISHED, HS_ESTABLISHED);
	seg(s, 230, HS_DIR_OUT, HS_ACK, 6, 8, NULL, HS_ESTABLISHED, HS_ESTABLISHED);
	state_ev(s, 300, false, HS_ESTABLISHED, HS_FIN_WAIT_1, "close", false, true);
	seg(s, 300, HS_DIR_OUT, HS_FIN | HS_ACK, 6, 8, NULL, HS_FIN_WAIT_1, HS_ESTABLISHED);
	seg(s, 352, HS_DIR_IN, HS_FIN | HS_ACK, 8, 7, NULL, HS_TIME_WAIT, HS_LAST_ACK);
	state_ev(s, 352, false, HS_FIN_WAIT_1, HS_TIME_WAIT, "FIN,ACK received", true, false);
	seg(s, 370, HS_DIR_OUT, HS_ACK, 7, 9, NULL, HS_TIME_WAIT, HS_CLOSED)->peer_assumed = true;
	state_ev(s, 60000370, false, HS_TIME_WAIT, HS_CLOSED, "2MSL", false, false);
	result_ev(s, 60000370, "closed", HS_CLOSED, HS_CLOSED);
}

/* Both ends close at once: the FINs cross in flight (neither acknowledges the other). */
static void simultaneous_close(script *s)
{
	script_init(s);
	open_ev(s, false, 0);
	seg(s, 10, HS_DIR_OUT, HS_SYN, 0, 0, NULL, HS_SYN_SENT, HS_LISTEN);
	seg(s, 60, HS_DIR_IN, HS_SYN | HS_ACK, 0, 1, NULL, HS_ESTABLISHED, HS_SYN_RECEIVED);
	seg(s, 80, HS_DIR_OUT, HS_ACK, 1, 1, NULL, HS_ESTABLISHED, HS_ESTABLISHED);
	seg(s, 1000, HS_DIR_OUT, HS_FIN | HS_ACK, 1, 1, NULL, HS_FIN_WAIT_1, HS_ESTABLISHED);
	seg(s, 1040, HS_DIR_IN, HS_FIN | HS_ACK, 1, 1, NULL, HS_CLOSING, HS_FIN_WAIT_1);
	state_ev(s, 1040, false, HS_FIN_WAIT_1, HS_CLOSING, "FIN received", true, false);
	seg(s, 1050, HS_DIR_OUT, HS_ACK, 2, 2, NULL, HS_CLOSING, HS_CLOSING);
	seg(s, 1090, HS_DIR_IN, HS_ACK, 2, 2, NULL, HS_TIME_WAIT, HS_TIME_WAIT);
	state_ev(s, 1090, false, HS_CLOSING, HS_TIME_WAIT, "ACK of FIN received", true, false);
	result_ev(s, 1090, "closed", HS_TIME_WAIT, HS_TIME_WAIT);
}

/* Read from two captures (A's and B's): B's SYN,ACK never reaches A; A resends its
 * SYN, B its SYN,ACK. The right margin: when the other capture saw each segment. */
static void lost_synack(script *s)
{
	hs_event *ev;

	script_init(s);
	open_ev(s, true, 1);
	ev = seg(s, 0, HS_DIR_OUT, HS_SYN, 0, 0, NULL, HS_SYN_SENT, HS_SYN_RECEIVED);
	ev->has_t_other = true;
	ev->t_other_ns = 42000;
	ev = seg(s, 43, HS_DIR_IN, HS_SYN | HS_ACK, 0, 1, NULL, HS_SYN_SENT, HS_SYN_RECEIVED);
	ev->lost = true;
	ev = seg(s, 1000100, HS_DIR_OUT, HS_SYN, 0, 0, NULL, HS_SYN_SENT, HS_SYN_RECEIVED);
	ev->note = HS_NOTE_RETRANSMISSION;
	ev->has_t_other = true;
	ev->t_other_ns = 1000142000;
	ev = seg(s, 1000190, HS_DIR_IN, HS_SYN | HS_ACK, 0, 1, NULL, HS_ESTABLISHED, HS_SYN_RECEIVED);
	ev->note = HS_NOTE_RETRANSMISSION;
	ev->has_t_other = true;
	ev->t_other_ns = 1000143000;
	ev = seg(s, 1000210, HS_DIR_OUT, HS_ACK, 1, 1, NULL, HS_ESTABLISHED, HS_ESTABLISHED);
	ev->has_t_other = true;
	ev->t_other_ns = 1000251000;
	ev = add(s, HS_EV_END, 1000251);
	ev->conn_index = 1;
	ev->local = &s->ends[0];
	ev->remote = &s->ends[1];
	ev->final_state = HS_ESTABLISHED;
	ev->final_peer_state = HS_ESTABLISHED;
	ev->summary = &s->none;
	result_ev(s, 1000251, "read", HS_ESTABLISHED, HS_ESTABLISHED);
	s->ev[s->n - 1].text = "1 connection";
}

/* ---- rendering ---------------------------------------------------------------------- */

static char *render(const script *s, int width, bool ascii, bool color)
{
	char *buf = NULL, *ebuf = NULL;
	size_t len = 0, elen = 0;
	FILE *fp = open_memstream(&buf, &len), *err = open_memstream(&ebuf, &elen);
	hs_output o;

	hs_output_init(&o, fp, err);
	o.view = HS_VIEW_LADDER;
	o.width = width;
	o.ascii = ascii;
	o.color = color;
	for (int i = 0; i < s->n; i++)
		hs_output_emit(&o, &s->ev[i]);
	hs_output_close(&o);
	fclose(fp);
	fclose(err);
	free(ebuf);
	return buf;
}

static const char *golden_dir(void)
{
	static char buf[4096];
	const char *env = getenv("HS_GOLDEN_DIR"), *srcdir = getenv("srcdir");

	if (env && *env)
		return env;
	if (srcdir && *srcdir) {
		snprintf(buf, sizeof(buf), "%s/tests/unit/golden", srcdir);
		return buf;
	}
	return "tests/unit/golden";
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (!fp)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		fwrite(tmp, 1, n, m);
	fclose(m);
	fclose(fp);
	return buf;
}

/* The first line where got and want differ, for the diagnostic. */
static void show_diff(const char *got, const char *want)
{
	int lineno = 1;
	const char *g = got, *w = want;

	while (*g && *g == *w) {
		if (*g == '\n')
			lineno++;
		g++;
		w++;
	}
	printf("# first difference on line %d\n#  got: %.*s\n# want: %.*s\n", lineno,
	       (int)strcspn(g, "\n"), g, (int)strcspn(w, "\n"), w);
}

static void golden(const char *name, const script *s, int width, bool ascii)
{
	char path[4200], desc[200];
	char *got = render(s, width, ascii, false);

	snprintf(path, sizeof(path), "%s/%s-%d-%s.txt", golden_dir(), name, width, ascii ? "ascii" : "utf8");
	snprintf(desc, sizeof(desc), "ladder %s, %d columns, %s, matches its golden file", name, width,
	         ascii ? "ASCII" : "UTF-8");
	const char *update = getenv("HS_GOLDEN_UPDATE");
	if (update && *update && strcmp(update, "0") != 0) {
		FILE *fp = fopen(path, "wb");
		OKF(fp && fputs(got, fp) >= 0 && fclose(fp) == 0, "%s (written to %s)", desc, path);
		free(got);
		return;
	}
	char *want = slurp(path);
	if (!want) {
		OKF(false, "%s (cannot read %s)", desc, path);
	} else {
		bool same = strcmp(got, want) == 0;
		OK(same, desc);
		if (!same)
			show_diff(got, want);
	}
	free(want);
	free(got);
}

/* ---- properties ------------------------------------------------------------------------ */

static char *strip_escapes(const char *s)
{
	char *out = malloc(strlen(s) + 1), *p = out;

	for (; *s; s++) {
		if (*s == '\033') {
			while (*s && *s != 'm')
				s++;
			if (!*s)
				break;
			continue;
		}
		*p++ = *s;
	}
	*p = '\0';
	return out;
}

/* The widest line, in columns (escape codes skipped, UTF-8 characters one column). */
static int widest(const char *text)
{
	char *plain = strip_escapes(text);
	int max = 0, col = 0;

	for (const char *s = plain; *s; s++) {
		if (*s == '\n')
			col = 0;
		else if (((unsigned char)*s & 0xc0) != 0x80 && ++col > max)
			max = col;
	}
	free(plain);
	return max;
}

static void test_widths(const char *name, const script *s)
{
	int worst = 0, worst_w = 0;

	for (int w = 30; w <= 140; w++)
		for (int ascii = 0; ascii < 2; ascii++) {
			char *got = render(s, w, ascii, true);
			int wide = widest(got);
			if (wide > w && wide - w > worst) {
				worst = wide - w;
				worst_w = w;
			}
			free(got);
		}
	OKF(worst == 0, "%s: no line wider than the width at 30..140 columns (worst: %d over at %d)", name, worst,
	   worst_w);
}

static void test_color(const char *name, const script *s)
{
	char *plain = render(s, 80, false, false), *colored = render(s, 80, false, true);
	char *stripped = strip_escapes(colored);

	OKF(strchr(plain, '\033') == NULL, "%s: no escape codes without color", name);
	OKF(strstr(colored, "\033[32m") && strstr(colored, "\033[36m"), "%s: color: both directions colored", name);
	OKF(strcmp(stripped, plain) == 0, "%s: color changes nothing but the escape codes", name);
	free(plain);
	free(colored);
	free(stripped);
}

/* Without HS_EV_OPEN (a driver that does not send it yet), the columns come from the
 * first segment: OUT's sender on the left. */
static void test_no_open(void)
{
	script s;
	handshake_close(&s);
	memmove(&s.ev[0], &s.ev[1], sizeof(s.ev[0]) * (size_t)(s.n - 1));
	s.n--;
	char *got = render(&s, 80, true, false);
	OK(strncmp(got, "          us 198.18.0.1:40000", 29) == 0 && strstr(strtok(got, "\n"), "peer 198.18.0.2:80"),
	   "no HS_EV_OPEN: the header from the first segment");
	free(got);
}

/* A held row is drawn when the driver says it has been quiet (or asks the user):
 * hs_output_holding says there is one, hs_output_idle draws it. */
static void test_idle_draws_held_row(void)
{
	script s;
	char *buf = NULL, *ebuf = NULL;
	size_t len = 0, elen = 0;
	FILE *fp = open_memstream(&buf, &len), *err = open_memstream(&ebuf, &elen);
	hs_output o;

	script_init(&s);
	open_ev(&s, false, 0);
	seg(&s, 10, HS_DIR_OUT, HS_SYN, 0, 0, NULL, HS_SYN_SENT, HS_LISTEN);
	hs_output_init(&o, fp, err);
	o.view = HS_VIEW_LADDER;
	o.width = 80;
	o.ascii = true;
	OK(!hs_output_holding(&o), "nothing held before any event");
	for (int i = 0; i < s.n; i++)
		hs_output_emit(&o, &s.ev[i]);
	fflush(fp);
	OK(hs_output_holding(&o), "the SYN's row is held (a crossing segment may follow)");
	OK(strstr(buf, "SYN seq=0") == NULL, "not drawn yet");
	hs_output_idle(&o);
	fflush(fp);
	OK(!hs_output_holding(&o), "idle: nothing held any more");
	OK(strstr(buf, "SYN seq=0") != NULL, "idle: the SYN's row drawn");
	hs_output_close(&o);
	fclose(fp);
	fclose(err);
	free(buf);
	free(ebuf);

	/* The line view holds nothing. */
	fp = open_memstream(&buf, &len);
	hs_output_init(&o, fp, stderr);
	hs_output_emit(&o, &s.ev[1]);
	OK(!hs_output_holding(&o), "the lines hold nothing");
	hs_output_close(&o);
	fclose(fp);
	free(buf);
}

/* hs shows a segment it sent once its copy is captured: the ACK of the peer's data
 * may come after the peer's FIN though it left before the FIN arrived. In time order
 * it crossed nothing: two plain arrows, the ACK first. */
static void test_late_copy(void)
{
	script s;

	script_init(&s);
	open_ev(&s, false, 0);
	seg(&s, 300, HS_DIR_OUT, HS_FIN | HS_ACK, 6, 1, NULL, HS_FIN_WAIT_1, HS_ESTABLISHED);
	seg(&s, 350, HS_DIR_IN, HS_PSH | HS_ACK, 1, 7, "hello", HS_FIN_WAIT_2, HS_CLOSE_WAIT);
	seg(&s, 420, HS_DIR_IN, HS_FIN | HS_ACK, 6, 7, NULL, HS_TIME_WAIT, HS_LAST_ACK);
	seg(&s, 400, HS_DIR_OUT, HS_ACK, 7, 6, NULL, HS_FIN_WAIT_2, HS_CLOSE_WAIT);
	seg(&s, 430, HS_DIR_OUT, HS_ACK, 7, 7, NULL, HS_TIME_WAIT, HS_CLOSED);
	char *got = render(&s, 80, true, false);
	const char *ack = strstr(got, "ACK seq=7 ack=6"), *fin = strstr(got, "FIN,ACK seq=6 ack=7");
	OK(strstr(got, " X ") == NULL && strchr(got, '\\') == NULL, "late copy: no crossing drawn");
	OK(ack && fin && ack < fin, "late copy: the ACK drawn before the FIN that arrived after it left");
	OK(strstr(got, " 0.000400 ") && strstr(got, " 0.000400 ") < strstr(got, " 0.000420 "), "late copy: times in order");
	free(got);

	/* The same order of events, but the FIN the ACK crossed left us first: crossing. */
	script_init(&s);
	open_ev(&s, false, 0);
	seg(&s, 300, HS_DIR_IN, HS_FIN | HS_ACK, 1, 1, NULL, HS_CLOSING, HS_FIN_WAIT_1);
	seg(&s, 290, HS_DIR_OUT, HS_FIN | HS_ACK, 1, 1, NULL, HS_FIN_WAIT_1, HS_ESTABLISHED);
	got = render(&s, 80, true, false);
	OK(strstr(got, " X ") != NULL, "late copy of our FIN that the peer's crossed: drawn crossing");
	free(got);
}

/* The peer's FIN comes after its ACK of our data (which our FIN followed): it
 * crossed our FIN, drawn rows before: marked with an X at its tail and a note. */
static void test_cross_mark(void)
{
	script s;

	script_init(&s);
	open_ev(&s, false, 0);
	seg(&s, 100, HS_DIR_OUT, HS_PSH | HS_ACK, 1, 1, "byebye", HS_ESTABLISHED, HS_ESTABLISHED);
	seg(&s, 110, HS_DIR_OUT, HS_FIN | HS_ACK, 7, 1, NULL, HS_FIN_WAIT_1, HS_ESTABLISHED);
	seg(&s, 150, HS_DIR_IN, HS_ACK, 1, 7, NULL, HS_FIN_WAIT_1, HS_ESTABLISHED);
	seg(&s, 300000, HS_DIR_IN, HS_FIN | HS_ACK, 1, 7, NULL, HS_CLOSING, HS_FIN_WAIT_1);
	seg(&s, 300010, HS_DIR_OUT, HS_ACK, 8, 2, NULL, HS_CLOSING, HS_CLOSING);
	char *got = render(&s, 100, true, false);
	const char *fin = strstr(got, "<----- FIN,ACK seq=1 ack=7 [crossed FIN,ACK seq=7 ack=1] ----X| FIN-WAIT-1\n");
	OK(fin != NULL, "a crossing rows apart: the later arrow marked at its tail, the note names the other");
	const char *ack = strstr(got, " ACK seq=1 ack=7 ");
	OK(ack && strncmp(ack + strcspn(ack, "|") - 1, "-|\n", 3) == 0, "the bare ACK in between crossed nothing");
	OK(strstr(got, "ACK seq=8 ack=2 ---") != NULL && strstr(got, "crossed FIN,ACK seq=1") == NULL,
	   "our ACK of the peer's FIN crossed nothing");
	free(got);
}

/* -r with several connections: a header at each HS_EV_OPEN, states written anew. */
static void test_two_connections(void)
{
	script s;

	script_init(&s);
	open_ev(&s, true, 1);
	seg(&s, 10, HS_DIR_OUT, HS_SYN, 0, 0, NULL, HS_SYN_SENT, HS_SYN_RECEIVED);
	open_ev(&s, true, 2);
	s.ev[s.n - 1].t_ns = 20000;
	seg(&s, 30, HS_DIR_OUT, HS_SYN, 0, 0, NULL, HS_SYN_SENT, HS_SYN_RECEIVED);
	char *got = render(&s, 80, true, false);
	const char *h1 = strstr(got, "A 198.18.0.1:40000"), *h2 = h1 ? strstr(h1 + 1, "A 198.18.0.1:40000") : NULL;
	OK(h1 && h2, "two connections: two headers");
	OK(h2 && strstr(h2, "SYN-SENT") && strstr(h2, "SYN-RECEIVED"), "the second connection's states written again");
	free(got);
}

/* -q: only the result, as the lines say it. */
static void test_quiet(void)
{
	script s;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	hs_output o;

	handshake_close(&s);
	fp = open_memstream(&buf, &len);
	hs_output_init(&o, fp, NULL);
	o.view = HS_VIEW_LADDER;
	o.quiet = true;
	o.ascii = false;
	for (int i = 0; i < s.n; i++)
		hs_output_emit(&o, &s.ev[i]);
	fclose(fp);
	EQ_STR(buf, "closed 198.18.0.1:40000 \u2192 198.18.0.2:80 (CLOSED, peer CLOSED)\n", "-q --ladder: the bare result");
	free(buf);
}

int main(void)
{
	test_idle_draws_held_row();
	static script hc, sc, ls;
	static const int widths[] = { 80, 120, 50 };

	handshake_close(&hc);
	simultaneous_close(&sc);
	lost_synack(&ls);
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++)
		for (int ascii = 0; ascii < 2; ascii++) {
			golden("handshake-close", &hc, widths[i], ascii);
			golden("simultaneous-close", &sc, widths[i], ascii);
			golden("lost-synack", &ls, widths[i], ascii);
		}
	test_widths("handshake-close", &hc);
	test_widths("simultaneous-close", &sc);
	test_widths("lost-synack", &ls);
	test_color("handshake-close", &hc);
	test_color("simultaneous-close", &sc);
	test_no_open();
	test_late_copy();
	test_cross_mark();
	test_two_connections();
	test_quiet();
	return tap_done();
}
