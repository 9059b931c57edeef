/* peer: the kernel TCP server the benchmark talks to, with an accept counter.
 *
 *   peer [-a | -d] ADDR PORT
 *
 * listen() on ADDR:PORT (backlog 4096) and accept every connection, and keep it
 * until the client ends it (its RST or FIN), so that the client's own end is
 * what ends the connection (an RST of ours first would make hs exit 1).
 * -a  abort each accepted connection at once instead (SO_LINGER {1, 0}: an RST,
 *     no FIN exchange, no TIME-WAIT): a server that ends the connection itself
 * -d  write 6 bytes right after accept() (the data whose ACK is measured)
 * Prints "ready" once listening, and on SIGUSR1 the number of connections
 * accepted so far (after taking in every one already queued), one per line.
 * SIGTERM/SIGINT end it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXCONN 1024

static volatile sig_atomic_t want_count, want_exit;

static void on_usr1(int sig)
{
	(void)sig;
	want_count = 1;
}

static void on_term(int sig)
{
	(void)sig;
	want_exit = 1;
}

static struct pollfd pfd[MAXCONN + 1];
static int npfd = 1;
static long accepted;

static void abort_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

/* Accept every queued connection (the listener is non-blocking). */
static void accept_all(int lfd, int abort_now, int data)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0)
			return;
		accepted++;
		if (abort_now) {
			abort_close(fd);
			continue;
		}
		if (data)
			(void)!write(fd, "hello\n", 6);
		if (npfd <= MAXCONN) {
			pfd[npfd].fd = fd;
			pfd[npfd].events = POLLIN;
			npfd++;
		} else {
			abort_close(fd);
		}
	}
}

int main(int argc, char **argv)
{
	int data = 0, abort_now = 0, opt;
	while ((opt = getopt(argc, argv, "ad")) != -1) {
		if (opt == 'a')
			abort_now = 1;
		else if (opt == 'd')
			data = 1;
		else
			goto usage;
	}
	if (argc - optind != 2)
		goto usage;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[optind + 1]))};
	if (inet_pton(AF_INET, argv[optind], &a.sin_addr) != 1)
		goto usage;

	struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* The signals are only let in while ppoll() waits: none is missed between the
	 * check of the flags and the wait. */
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4096) != 0) {
		perror("peer");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	while (!want_exit) {
		if (want_count) {
			want_count = 0;
			accept_all(lfd, abort_now, data);
			printf("%ld\n", accepted);
		}
		int n = ppoll(pfd, (nfds_t)npfd, NULL, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("peer: poll");
			return 1;
		}
		if (pfd[0].revents)
			accept_all(lfd, abort_now, data);
		for (int i = 1; i < npfd; i++) {
			if (!pfd[i].revents)
				continue;
			char buf[256];
			ssize_t r = read(pfd[i].fd, buf, sizeof buf);
			if (r > 0 || (r < 0 && errno == EAGAIN))
				continue;
			close(pfd[i].fd); /* EOF or RST: the client is gone */
			pfd[i--] = pfd[--npfd];
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: peer [-a | -d] ADDR PORT\n");
	return 2;
}
