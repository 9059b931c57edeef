/* kclient: the kernel's own TCP client, the reference hs is measured against.
 *
 *   kclient [-s SPORT] [-n COUNT] [-d] [-w] HOST PORT
 *
 * connect() to HOST:PORT (IPv4), then abort: SO_LINGER {1, 0} and close(), so the
 * kernel sends an RST and keeps no TIME-WAIT (what `hs connect --close rst` does).
 * -s SPORT  bind to this source port first (lets a capture tell the runs apart)
 * -d        wait for the peer's first data (its ACK is what is measured) first
 * -w        wait for the peer to end the connection (its FIN or RST) first
 * -n COUNT  COUNT connections one after the other; prints "COUNT ELAPSED_NS
 *           FAILED" (CLOCK_MONOTONIC around the loop)
 * Exit status: 0 all connected, 1 some failed, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int one(const struct sockaddr_in *dst, int sport, int want_data, int want_end)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	int on = 1;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (sport) {
		struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sport)};
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (bind(fd, (const struct sockaddr *)&src, sizeof src) != 0) {
			perror("kclient: bind");
			close(fd);
			return -1;
		}
	}
	int rc = connect(fd, (const struct sockaddr *)dst, sizeof *dst);
	/* ECONNRESET: the handshake completed and the peer's RST (its abort right
	 * after accept) came before this thread woke up: a connection all the same
	 * (an RST answering the SYN is ECONNREFUSED). */
	if (rc != 0 && errno == ECONNRESET)
		return close(fd), 0;
	if (rc == 0 && want_data) {
		char buf[64];
		rc = recv(fd, buf, sizeof buf, 0) > 0 ? 0 : -1;
	}
	if (rc == 0 && want_end) {
		char buf[64];
		while (recv(fd, buf, sizeof buf, 0) > 0)
			;
	}
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	int sport = 0, count = 0, want_data = 0, want_end = 0, opt;
	while ((opt = getopt(argc, argv, "s:n:dw")) != -1) {
		switch (opt) {
		case 's':
			sport = atoi(optarg);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'd':
			want_data = 1;
			break;
		case 'w':
			want_end = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[optind + 1]))};
	if (inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1)
		goto usage;
	if (count <= 0) {
		if (one(&dst, sport, want_data, want_end) != 0) {
			perror("kclient: connect");
			return 1;
		}
		return 0;
	}
	struct timespec t0, t1;
	int failed = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < count; i++)
		failed += one(&dst, sport, want_data, want_end) != 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("%d %lld %d\n", count, ns, failed);
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: kclient [-s SPORT] [-n COUNT] [-d] [-w] HOST PORT\n");
	return 2;
}
