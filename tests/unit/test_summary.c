/* The summary's figures from event sequences: what a connect, a listen, an
 * observed connection, retransmissions and teardowns make of them. */
#include <config.h>
#include <string.h>
#include "hs/summary.h"
#include "tap.h"

#define US 1000ull

static hs_summary S;
static hs_segment seg_buf;

static void open_conn(void)
{
	hs_event ev = { .type = HS_EV_OPEN };
	hs_summary_add(&S, &ev);
}

/* One segment event: dir, flags, payload length, time in µs, note. */
static void seg(enum hs_dir d, uint8_t flags, size_t len, uint64_t t_us, enum hs_note note)
{
	memset(&seg_buf, 0, sizeof(seg_buf));
	seg_buf.flags = flags;
	seg_buf.len = len;
	hs_event ev = { .type = HS_EV_SEGMENT, .dir = d, .seg = &seg_buf, .t_ns = t_us * US, .note = note };
	hs_summary_add(&S, &ev);
}

static const char *json(void)
{
	static char buf[512];
	hs_sbuf b = { .p = buf, .len = sizeof(buf) };
	buf[0] = 0;
	hs_summary_json(&S, &b);
	return buf;
}

static const char *text(void)
{
	static char buf[512];
	hs_sbuf b = { .p = buf, .len = sizeof(buf) };
	buf[0] = 0;
	hs_summary_text(&S, "us", "peer", &b);
	return buf;
}

static void test_connect_send_close(void)
{
	hs_summary_init(&S);
	OK(hs_summary_empty(&S), "a new summary is empty");
	open_conn();
	seg(HS_DIR_OUT, HS_SYN, 0, 0, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_SYN | HS_ACK, 0, 51, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_ACK, 0, 73, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_PSH | HS_ACK, 5, 100, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_ACK, 0, 150, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_FIN | HS_ACK, 0, 1000, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_FIN | HS_ACK, 0, 1100, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_ACK, 0, 1210, HS_NOTE_NONE);
	OK(!hs_summary_empty(&S), "segments make it non-empty");
	EQ_STR(json(), "{\"rtt\":0.000051,\"reaction\":0.000022,\"teardown\":0.000210,\"segments\":[5,3],"
	       "\"bytes\":[5,0],\"retransmissions\":[0,0]}", "connect: rtt SYN->SYN,ACK, reaction SYN,ACK->ACK");
	EQ_STR(text(), "rtt 0.051 ms, reaction 0.022 ms, teardown 0.210 ms; us->peer 5 segments, 5 bytes; "
	       "peer->us 3 segments, 0 bytes", "connect: the text");
}

static void test_listen_reaction(void)
{
	hs_summary_init(&S);
	seg(HS_DIR_IN, HS_SYN, 0, 10, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_SYN | HS_ACK, 0, 40, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_ACK, 0, 140, HS_NOTE_NONE);
	OK(S.has_reaction && S.reaction_ns == 30 * US, "listen: reaction SYN in -> our SYN,ACK");
	OK(S.has_rtt && S.rtt_ns == 100 * US, "listen: rtt our SYN,ACK -> its ACK");
	OK(!S.has_teardown, "no close, no teardown");
}

static void test_syn_retransmitted_karn(void)
{
	hs_summary_init(&S);
	seg(HS_DIR_OUT, HS_SYN, 0, 0, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_SYN, 0, 1000000, HS_NOTE_RETRANSMISSION);
	seg(HS_DIR_IN, HS_SYN | HS_ACK, 0, 1000060, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_ACK, 0, 1000080, HS_NOTE_NONE);
	OK(S.has_rtt && S.rtt_ns == 60 * US, "rtt counts from the last SYN");
	EQ_INT(S.retransmissions[HS_DIR_OUT], 1, "the resent SYN counted");
	OK(S.has_reaction && S.reaction_ns == 20 * US, "reaction to the SYN,ACK");
}

static void test_synack_retransmitted_lost_ack(void)
{
	hs_summary_init(&S);
	seg(HS_DIR_OUT, HS_SYN, 0, 0, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_SYN | HS_ACK, 0, 50, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_SYN | HS_ACK, 0, 1000050, HS_NOTE_RETRANSMISSION);
	seg(HS_DIR_OUT, HS_ACK, 0, 1000070, HS_NOTE_NONE);
	OK(S.has_rtt && S.rtt_ns == 50 * US, "rtt: to the first SYN,ACK of the last SYN");
	OK(S.has_reaction && S.reaction_ns == 20 * US, "reaction to the last SYN,ACK");
	EQ_INT(S.retransmissions[HS_DIR_IN], 1, "the peer's resend counted");
}

static void test_reset_teardown_and_open_resets(void)
{
	hs_summary_init(&S);
	seg(HS_DIR_OUT, HS_SYN, 0, 0, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_RST | HS_ACK, 0, 30, HS_NOTE_NONE);
	OK(!S.has_rtt && !S.has_reaction, "refused: no handshake figures");
	OK(S.has_teardown && S.teardown_ns == 0, "a lone RST: teardown 0");
	open_conn();
	OK(hs_summary_empty(&S) && !S.has_teardown, "HS_EV_OPEN starts a new connection's figures");
}

static void test_lost_segments_not_counted(void)
{
	hs_summary_init(&S);
	memset(&seg_buf, 0, sizeof(seg_buf));
	seg_buf.flags = HS_ACK;
	seg_buf.len = 100;
	hs_event ev = { .type = HS_EV_SEGMENT, .dir = HS_DIR_OUT, .seg = &seg_buf, .lost = true };
	hs_summary_add(&S, &ev);
	OK(hs_summary_empty(&S), "a segment that never arrived (two captures) is not counted");
	hs_event info = { .type = HS_EV_INFO, .text = "x" };
	hs_summary_add(&S, &info);
	OK(hs_summary_empty(&S), "other events count nothing");
}

static void test_simultaneous_open_no_figures(void)
{
	hs_summary_init(&S);
	seg(HS_DIR_OUT, HS_SYN, 0, 0, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_SYN, 0, 5, HS_NOTE_NONE);
	seg(HS_DIR_OUT, HS_SYN | HS_ACK, 0, 10, HS_NOTE_NONE);
	seg(HS_DIR_IN, HS_SYN | HS_ACK, 0, 15, HS_NOTE_NONE);
	OK(S.has_rtt && S.rtt_ns == 15 * US, "simultaneous open: our SYN -> its SYN,ACK");
	EQ_STR(text(), "rtt 0.015 ms; us->peer 2 segments, 0 bytes; peer->us 2 segments, 0 bytes",
	       "no reaction figure without the ACK");
}

static void test_json_locale_free_rounding(void)
{
	hs_summary_init(&S);
	seg(HS_DIR_OUT, HS_SYN, 0, 0, HS_NOTE_NONE);
	memset(&seg_buf, 0, sizeof(seg_buf));
	seg_buf.flags = HS_SYN | HS_ACK;
	hs_event ev = { .type = HS_EV_SEGMENT, .dir = HS_DIR_IN, .seg = &seg_buf, .t_ns = 1234567890ull };
	hs_summary_add(&S, &ev);
	OK(strstr(json(), "\"rtt\":1.234568,") != NULL, "seconds with 6 decimals, rounded");
	EQ_STR(text(), "rtt 1234.568 ms; us->peer 1 segment, 0 bytes; peer->us 1 segment, 0 bytes",
	       "singular segment");
}

int main(void)
{
	test_connect_send_close();
	test_listen_reaction();
	test_syn_retransmitted_karn();
	test_synack_retransmitted_lost_ack();
	test_reset_teardown_and_open_resets();
	test_lost_segments_not_counted();
	test_simultaneous_open_no_figures();
	test_json_locale_free_rounding();
	return tap_done();
}
