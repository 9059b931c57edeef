/* Fuzz target for the command-line payload and host parsers: hs_payload_unescape
 * (--send), hs_payload_hex (--send-hex) and hs_host_split (connect/listen HOST).
 * The input is taken as text (up to its first NUL); each parser runs with a
 * buffer of exactly the size it promises to need, with one byte less, and the
 * results are checked by round trips.
 *
 *   libFuzzer: make fuzz (fuzz/fuzz_payload_libfuzzer, corpus fuzz/corpus-payload)
 *   replay (make check): fuzz/replay_main.c, built as fuzz/fuzz_payload_replay */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs/addr.h"
#include "hs/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
	if (!cond)
		abort();
}

/* Heap copies of exactly the sizes asked for, so that ASan sees any overrun. */
static uint8_t *alloc_exact(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	require(p != NULL);
	return p;
}

static void check_unescape(const char *text, size_t tlen)
{
	uint8_t *out = alloc_exact(tlen);
	size_t len = tlen;
	const char *err = NULL;
	int rc = hs_payload_unescape(text, out, &len, &err);

	if (rc < 0) {
		require(err && *err && len <= tlen && text[len] == '\\');
		free(out);
		return;
	}
	require(len <= tlen);
	/* One byte less room must fail (unless nothing came out). */
	if (len > 0) {
		uint8_t *small = alloc_exact(len - 1);
		size_t slen = len - 1;
		require(hs_payload_unescape(text, small, &slen, &err) < 0);
		free(small);
	}
	/* Round trip: every byte as \xHH decodes back to the same bytes, and so does
	 * the same as hex. */
	char *esc = malloc(len * 4 + 1), *hex = malloc(len * 2 + 3);
	require(esc && hex);
	for (size_t i = 0; i < len; i++) {
		snprintf(esc + i * 4, 5, "\\x%02x", out[i]);
		snprintf(hex + i * 2, 3, "%02X", out[i]);
	}
	esc[len * 4] = '\0';
	hex[len * 2] = '\0';
	uint8_t *back = alloc_exact(len);
	size_t blen = len;
	require(hs_payload_unescape(esc, back, &blen, &err) == 0 && blen == len && memcmp(back, out, len) == 0);
	if (len > 0) {
		blen = len;
		require(hs_payload_hex(hex, back, &blen, &err) == 0 && blen == len && memcmp(back, out, len) == 0);
	}
	free(back);
	free(esc);
	free(hex);
	free(out);
}

static void check_hex(const char *text, size_t tlen)
{
	size_t cap = tlen / 2;
	uint8_t *out = alloc_exact(cap);
	size_t len = cap;
	const char *err = NULL;

	if (hs_payload_hex(text, out, &len, &err) < 0) {
		require(err && *err && len <= tlen);
	} else {
		require(len >= 1 && len <= cap);
		uint8_t *small = alloc_exact(len - 1);
		size_t slen = len - 1;
		require(hs_payload_hex(text, small, &slen, &err) < 0);
		free(small);
	}
	free(out);
}

static void check_host(const char *text, size_t tlen)
{
	char host[64];
	uint16_t port = 0;
	const char *err = NULL;

	if (hs_host_split(text, host, sizeof(host), &port, &err) < 0) {
		require(err && *err);
		return;
	}
	size_t hlen = strlen(host);
	require(hlen >= 1 && hlen < sizeof(host) && hlen <= tlen);
	require(strstr(text, host) != NULL && !strchr(host, '[') && !strchr(host, ']'));
	require(port == 0 || strchr(text, ':'));
	/* The parts, put together again, split the same way. */
	char again[96];
	bool v6 = strchr(host, ':') != NULL;
	if (port)
		snprintf(again, sizeof(again), v6 ? "[%s]:%u" : "%s:%u", host, port);
	else
		snprintf(again, sizeof(again), v6 ? "[%s]" : "%s", host);
	char host2[64];
	uint16_t port2 = 0;
	require(hs_host_split(again, host2, sizeof(host2), &port2, &err) == 0);
	require(strcmp(host, host2) == 0 && port == port2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	require(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	size_t tlen = strlen(text);
	check_unescape(text, tlen);
	check_hex(text, tlen);
	check_host(text, tlen);
	free(text);
	return 0;
}
