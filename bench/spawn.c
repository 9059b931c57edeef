/* spawn: run commands as child processes, interleaved, and time each one.
 *
 *   spawn [-n ROUNDS] [-e ERRFILE] [-k PID:FILE] LABEL CMD [ARG...] [:: LABEL CMD [ARG...]]...
 *
 * For each round, runs every command once in the order given (A B C A B C ..., so
 * a drift of the machine touches all of them alike) and prints one line per run:
 *
 *   LABEL ROUND ELAPSED_NS MAXRSS_KIB STATUS START_REALTIME_NS
 *
 * ELAPSED_NS is CLOCK_MONOTONIC around posix_spawn() + wait4(): the whole process,
 * fork/exec to exit. START_REALTIME_NS is CLOCK_REALTIME read just before
 * posix_spawn(), on the clock tcpdump stamps packets with, so a capture can tell
 * how long after the exec the first segment left. MAXRSS_KIB is wait4()'s
 * ru_maxrss. STATUS is the exit code, or 128+signal.
 *
 * An argument @N (digits) becomes N + ROUND: a source port per run, say.
 * The children's stdout goes to /dev/null (formatting to a terminal is not what is
 * measured); their stderr to ERRFILE (appended; default /dev/null).
 * -k PID:FILE: after each run, send SIGUSR1 to PID (the peer's accept loop) and
 * wait until FILE has one more line (its count), so each run's connections are
 * counted before the next run starts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct cmd {
	const char *label;
	char **argv;
};

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* argv of command c for round r: @N arguments numbered, into buf. */
static char **numbered(char **argv, int r, char *buf, size_t buflen, char **out, int outlen)
{
	int i;
	for (i = 0; argv[i] && i < outlen - 1; i++) {
		const char *a = argv[i];
		if (a[0] == '@' && a[1] && strspn(a + 1, "0123456789") == strlen(a + 1) && buflen > 16) {
			int n = snprintf(buf, buflen, "%ld", atol(a + 1) + r);
			out[i] = buf;
			buf += n + 1;
			buflen -= (size_t)n + 1;
		} else {
			out[i] = argv[i];
		}
	}
	out[i] = NULL;
	return out;
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, ch;
	if (!f)
		return 0;
	while ((ch = getc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* Ask the peer for its count and wait (at most 10 s) until it has written it. */
static void peer_count(pid_t pid, const char *file)
{
	int before = count_lines(file);
	if (kill(pid, SIGUSR1) != 0) {
		perror("spawn: kill peer");
		exit(4);
	}
	for (int i = 0; i < 10000 && count_lines(file) <= before; i++)
		usleep(1000);
}

int main(int argc, char **argv)
{
	int rounds = 1, opt;
	const char *errfile = "/dev/null", *countfile = NULL;
	pid_t peer = 0;

	while ((opt = getopt(argc, argv, "+n:e:k:")) != -1) {
		switch (opt) {
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'e':
			errfile = optarg;
			break;
		case 'k': {
			char *colon = strchr(optarg, ':');
			if (!colon)
				goto usage;
			*colon = '\0';
			peer = (pid_t)atoi(optarg);
			countfile = colon + 1;
			break;
		}
		default:
			goto usage;
		}
	}
	struct cmd cmds[16];
	int ncmd = 0;
	for (int i = optind; i < argc;) {
		if (ncmd == 16 || i + 1 >= argc)
			goto usage;
		cmds[ncmd].label = argv[i];
		cmds[ncmd].argv = &argv[i + 1];
		int j = i + 1;
		while (j < argc && strcmp(argv[j], "::") != 0)
			j++;
		if (j < argc)
			argv[j++] = NULL; /* ends this command's argv */
		ncmd++;
		i = j;
	}
	if (ncmd == 0 || rounds < 1)
		goto usage;

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < ncmd; c++) {
			pid_t pid;
			int status;
			struct rusage ru;
			char buf[256], *args[256];
			char **av = numbered(cmds[c].argv, r, buf, sizeof buf, args, 256);
			long long rt = now_ns(CLOCK_REALTIME);
			long long t0 = now_ns(CLOCK_MONOTONIC);
			int err = posix_spawnp(&pid, av[0], &fa, NULL, av, environ);
			if (err) {
				fprintf(stderr, "spawn: %s: %s\n", cmds[c].argv[0], strerror(err));
				return 4;
			}
			while (wait4(pid, &status, 0, &ru) < 0)
				if (errno != EINTR) {
					perror("spawn: wait4");
					return 4;
				}
			long long t1 = now_ns(CLOCK_MONOTONIC);
			int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			printf("%s %d %lld %ld %d %lld\n", cmds[c].label, r, t1 - t0, ru.ru_maxrss, code, rt);
			if (peer)
				peer_count(peer, countfile);
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: spawn [-n ROUNDS] [-e ERRFILE] [-k PID:FILE] LABEL CMD [ARG...] [:: LABEL CMD...]...\n");
	return 2;
}
