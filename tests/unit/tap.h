/* A tiny TAP producer for unit tests: each check is one "ok"/"not ok" line, and
 * tap_done() prints the plan and returns the exit status. */
#ifndef HS_TAP_H
#define HS_TAP_H
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>

static int tap_n, tap_failed;

static inline void tap_ok(int cond, const char *file, int line, const char *what)
{
	++tap_n;
	if (!cond)
		++tap_failed;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, what);
	if (!cond)
		printf("#   failed at %s:%d\n", file, line);
}

#define OK(cond, what) tap_ok(!!(cond), __FILE__, __LINE__, (what))
#define EQ_INT(a, b, what) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	tap_ok(a_ == b_, __FILE__, __LINE__, (what)); \
	if (a_ != b_) printf("#   got %lld, want %lld\n", a_, b_); } while (0)
#define EQ_STR(a, b, what) do { const char *a_ = (a), *b_ = (b); \
	int eq_ = a_ && b_ && strcmp(a_, b_) == 0; tap_ok(eq_, __FILE__, __LINE__, (what)); \
	if (!eq_) printf("#   got \"%s\", want \"%s\"\n", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
