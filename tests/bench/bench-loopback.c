/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * bench-loopback: the floor under run-sse-bench's fan-out, with no oscd, GLib or libsoup.
 *
 * A writer process accepts N loopback TCP connections (TCP_NODELAY, non-blocking, as the
 * SSE hub's) from a reader process that watches them all with one epoll set, as sse-bench
 * does. Every round the writer sends one event-sized chunk (--size bytes) to each connection
 * with one send() apiece, which is all the hub does per delivery; the reader reads them.
 * Printed per round, as medians over the rounds: how long the writer's loop took (its CPU
 * per delivery) and when the last connection had its chunk, counted from the round's start
 * (the fan-out time that create→delivery latency cannot go below at N subscribers on this
 * machine).
 *
 * With THREADS > 1 the writer splits each round's sends over that many threads, as a
 * fan-out over writer threads would.
 *
 * Usage: bench-loopback [N] [ROUNDS] [SIZE] [THREADS]   (defaults 10000 20 160 1)
 */

#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	volatile int64_t start_ns[1024];   /* written by the writer */
	volatile int64_t last_ns[1024];	   /* written by the reader */
	volatile int64_t connected;	   /* reader: connections made */
} Shared;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

typedef struct {
	const int *fds;
	int from, to, size;
	const char *chunk;
	pthread_t thread;
} Slice;

static void *
send_slice(void *data)
{
	Slice *sl = data;

	for (int i = sl->from; i < sl->to; i++) {
		if (send(sl->fds[i], sl->chunk, sl->size, MSG_DONTWAIT | MSG_NOSIGNAL) != sl->size)
			die("send");
	}
	return NULL;
}

/* the reader: N connections, one epoll set, counts each round's chunks */
static void
reader(Shared *sh, int port, int n, int rounds, int size)
{
	int ep = epoll_create1(0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct epoll_event *events = calloc(1024, sizeof(*events));
	char buf[65536];
	long round_bytes = (long)n * size, seen = 0;
	int round = 0;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct epoll_event ev = {.events = EPOLLIN};

		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
			die("reader: connect");
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			die("reader: epoll_ctl");
		sh->connected = i + 1;
	}
	while (round < rounds) {
		int k = epoll_wait(ep, events, 1024, 10000);

		if (k <= 0)
			die("reader: epoll_wait (the writer stopped?)");
		for (int j = 0; j < k; j++) {
			ssize_t r = recv(events[j].data.fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (r > 0)
				seen += r;
		}
		if (seen >= round_bytes * (round + 1)) {
			sh->last_ns[round] = now_ns();
			round++;
		}
	}
	exit(0);
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	int size = argc > 3 ? atoi(argv[3]) : 160;
	int threads = argc > 4 ? atoi(argv[4]) : 1;
	Slice *slices;
	Shared *sh = mmap(NULL, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			  -1, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	struct rlimit rl;
	int lfd, *fds, one = 1, status = 0;
	int64_t *loop_ns, *fanout_ns;
	char *chunk;
	pid_t child;

	if (n < 1 || rounds < 1 || rounds > 1024 || size < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: bench-loopback [N] [ROUNDS ≤ 1024] [SIZE] [THREADS ≤ 64]\n");
		return 2;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)n + 64 > rl.rlim_cur) {
		fprintf(stderr, "bench-loopback: the descriptor limit (%lu) is below N + 64\n",
			(unsigned long)rl.rlim_cur);
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(lfd, 4096) != 0 || getsockname(lfd, (struct sockaddr *)&addr, &len) != 0)
		die("listen");
	child = fork();
	if (child == 0) {
		close(lfd);
		reader(sh, ntohs(addr.sin_port), n, rounds, size);
	}
	fds = calloc(n, sizeof(int));
	for (int i = 0; i < n; i++) {
		fds[i] = accept(lfd, NULL, NULL);
		if (fds[i] < 0)
			die("accept");
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	while (sh->connected < n)
		usleep(1000);
	usleep(200000);

	chunk = malloc(size);
	memset(chunk, 'x', size);
	slices = calloc(threads, sizeof(Slice));
	for (int t = 0; t < threads; t++) {
		slices[t].fds = fds;
		slices[t].from = (int)((long)n * t / threads);
		slices[t].to = (int)((long)n * (t + 1) / threads);
		slices[t].size = size;
		slices[t].chunk = chunk;
	}
	loop_ns = calloc(rounds, sizeof(int64_t));
	fanout_ns = calloc(rounds, sizeof(int64_t));
	for (int r = 0; r < rounds; r++) {
		int64_t t0 = now_ns();

		sh->start_ns[r] = t0;
		for (int t = 1; t < threads; t++)
			pthread_create(&slices[t].thread, NULL, send_slice, &slices[t]);
		send_slice(&slices[0]);
		for (int t = 1; t < threads; t++)
			pthread_join(slices[t].thread, NULL);
		loop_ns[r] = now_ns() - t0;
		/* let the reader finish before the next round, as a steady event rate would */
		while (sh->last_ns[r] == 0)
			usleep(500);
		fanout_ns[r] = sh->last_ns[r] - t0;
		usleep(100000);
	}
	waitpid(child, &status, 0);

	qsort(loop_ns, rounds, sizeof(int64_t), cmp_i64);
	qsort(fanout_ns, rounds, sizeof(int64_t), cmp_i64);
	printf("bench-loopback: %d connections, %d rounds of one %d-byte send() each, %d writer "
	       "thread(s)\n",
	       n, rounds, size, threads);
	printf("  writer loop:   median %.2f ms (%.2f us of wall time per send), max %.2f ms\n",
	       loop_ns[rounds / 2] / 1e6, loop_ns[rounds / 2] / 1e3 / n, loop_ns[rounds - 1] / 1e6);
	printf("  last delivery: median %.2f ms after the round's start, max %.2f ms\n",
	       fanout_ns[rounds / 2] / 1e6, fanout_ns[rounds - 1] / 1e6);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
