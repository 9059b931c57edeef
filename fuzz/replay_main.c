/* Replays fuzz/corpus through LLVMFuzzerTestOneInput without libFuzzer (make check),
 * plus deterministic mutations of every file, and reports TAP.
 * Corpus directory: $HS_FUZZ_CORPUS, else $srcdir/fuzz/NAME, else fuzz/NAME, where
 * NAME is HS_FUZZ_CORPUS_NAME (default "corpus"; one corpus per fuzz target). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HS_FUZZ_CORPUS_NAME
#define HS_FUZZ_CORPUS_NAME "corpus"
#endif
#define MUTATIONS_PER_FILE 20000
#define INPUT_MAX_BYTES 65536
#define MAX_GROWTH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64: fixed seed, so every run tries the same inputs. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* Values that upset length fields: 0, 1, just below/above small sizes, maxima. */
static uint8_t edgy_byte(uint8_t old)
{
	static const uint8_t edges[] = { 0, 1, 2, 3, 4, 5, 8, 10, 15, 16, 18, 34, 40, 0x3f, 0x40, 0x45,
	                                 0x46, 0x4f, 0x50, 0x5f, 0x60, 0x7f, 0x80, 0xf0, 0xfe, 0xff };
	switch (rnd_below(3)) {
	case 0:
		return (uint8_t)(old + 1);
	case 1:
		return (uint8_t)(old - 1);
	default:
		return edges[rnd_below(sizeof(edges))];
	}
}

/* One to three stacked edits of buf (capacity cap); returns the new length. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	int edits = 1 + (int)rnd_below(3);

	for (int e = 0; e < edits; e++) {
		switch (rnd_below(5)) {
		case 0: /* bit flips */
			for (int k = 1 + (int)rnd_below(4); k > 0 && len; k--) {
				size_t i = rnd_below(len);
				buf[i] ^= (uint8_t)(1u << rnd_below(8));
			}
			break;
		case 1: /* truncation */
			len = rnd_below(len + 1);
			break;
		case 2: /* a length-like byte */
			if (len) {
				size_t i = rnd_below(len);
				buf[i] = edgy_byte(buf[i]);
			}
			break;
		case 3: /* another link type */
			if (len)
				buf[0] = (uint8_t)rnd();
			break;
		default: /* trailing garbage */
			for (size_t k = rnd_below(MAX_GROWTH); k > 0 && len < cap; k--)
				buf[len++] = (uint8_t)rnd();
			break;
		}
	}
	return len;
}

/* Runs one input from an exactly-sized heap copy, so that sanitizers see overreads. */
static void run(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static const char *corpus_dir(char *buf, size_t len)
{
	const char *env = getenv("HS_FUZZ_CORPUS");
	const char *srcdir = getenv("srcdir");

	if (env && *env)
		return env;
	if (srcdir && *srcdir) {
		snprintf(buf, len, "%s/fuzz/" HS_FUZZ_CORPUS_NAME, srcdir);
		return buf;
	}
	return "fuzz/" HS_FUZZ_CORPUS_NAME;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(void)
{
	char dirbuf[4096], path[8192];
	const char *dir = corpus_dir(dirbuf, sizeof(dirbuf));
	struct dirent **names;
	int n = scandir(dir, &names, not_hidden, alphasort);
	int t = 0, failed = 0;
	static uint8_t orig[INPUT_MAX_BYTES], buf[INPUT_MAX_BYTES + MAX_GROWTH];
	unsigned long mutations = 0;

	if (n < 0) {
		printf("not ok 1 - corpus directory %s: %s\n1..1\n", dir, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		FILE *f = fopen(path, "rb");
		if (!f) {
			printf("not ok %d - corpus %s: %s\n", ++t, names[i]->d_name, strerror(errno));
			failed = 1;
			free(names[i]);
			continue;
		}
		size_t len = fread(orig, 1, sizeof(orig), f);
		fclose(f);
		run(orig, len);
		printf("ok %d - corpus %s\n", ++t, names[i]->d_name);
		for (int m = 0; m < MUTATIONS_PER_FILE; m++) {
			memcpy(buf, orig, len);
			run(buf, mutate(buf, len, sizeof(buf)));
			mutations++;
		}
		free(names[i]);
	}
	free(names);
	/* Reaching this line means no input crashed or tripped an invariant. */
	printf("ok %d - %lu mutations\n", ++t, mutations);
	printf("1..%d\n", t);
	return failed;
}
