/* Fuzz target for the store's record parser: hs_record_parse on the text of a state
 * file (what a hostile --state-dir may hold), then hs_record_validate. A record that
 * parses is formatted again (into a buffer of exactly its size, and one byte less)
 * and must parse back to the same fields; validation must give the same answer for
 * both. The host check (addresses, nft) is not run: it reads the machine, not the text.
 *
 *   libFuzzer: make fuzz (fuzz/fuzz_store_libfuzzer, corpus fuzz/corpus-store)
 *   replay (make check): fuzz/replay_main.c, built as fuzz/fuzz_store_replay */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		abort();
}

static bool same(const hs_conn_record *a, const hs_conn_record *b)
{
	return a->id == b->id && hs_endpoint_equal(&a->local, &b->local) &&
	       hs_endpoint_equal(&a->remote, &b->remote) && strcmp(a->iface, b->iface) == 0 &&
	       a->state == b->state && a->peer_state == b->peer_state && a->iss == b->iss && a->irs == b->irs &&
	       a->snd_una == b->snd_una && a->snd_nxt == b->snd_nxt && a->rcv_nxt == b->rcv_nxt &&
	       a->snd_wnd == b->snd_wnd && a->rcv_wnd == b->rcv_wnd && a->peer_mss == b->peer_mss &&
	       a->snd_wscale == b->snd_wscale && a->rcv_wscale == b->rcv_wscale && a->ws_ok == b->ws_ok &&
	       a->sack_ok == b->sack_ok && a->ts_ok == b->ts_ok && a->ts_recent == b->ts_recent &&
	       a->ts_clock == b->ts_clock && strcmp(a->guard, b->guard) == 0 && a->created == b->created &&
	       a->pid == b->pid;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256] = "", verr[256];
	hs_conn_record rec, back;

	require(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	/* hs reads at most 4096 bytes and refuses NULs before parsing: the parser sees
	 * any NUL-free text, so give it everything up to the first NUL. */
	if (hs_record_parse(text, &rec, err, sizeof(err)) < 0) {
		require(err[0] != '\0' && strlen(err) < sizeof(err));
		free(text);
		return 0;
	}
	require(rec.iface[sizeof(rec.iface) - 1] == '\0' && rec.guard[sizeof(rec.guard) - 1] == '\0');
	int valid = hs_record_validate(&rec, verr, sizeof(verr));
	require(valid == 0 || (valid == -1 && verr[0]));

	/* Format into a buffer of exactly the size needed, and one byte less. */
	char big[8192];
	int n = hs_record_format(&rec, big, sizeof(big));
	require(n > 0 && (size_t)n < sizeof(big));
	char *exact = malloc((size_t)n + 1), *small = malloc((size_t)n);
	require(exact && small);
	require(hs_record_format(&rec, exact, (size_t)n + 1) == n && strcmp(exact, big) == 0);
	require(hs_record_format(&rec, small, (size_t)n) == -1);
	require(hs_record_parse(exact, &back, err, sizeof(err)) == 0);
	require(same(&rec, &back));
	require(hs_record_validate(&back, verr, sizeof(verr)) == valid);
	free(exact);
	free(small);
	free(text);
	return 0;
}
