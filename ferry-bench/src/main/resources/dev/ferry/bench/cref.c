/*
 * The C reference of `ferry bench`: the same framing as Ferry (4-byte big-endian length, then the
 * payload) over an AF_UNIX socketpair between two processes. Compiled at bench time with gcc -O2.
 *
 *   cref pingpong COUNT SIZE           round trips; prints {"median_ns":..,"p99_ns":..}
 *   cref oneway COUNT SIZE simple      the reader does read(4) + read(n) per message
 *   cref oneway COUNT SIZE buffered    the reader parses frames out of a 64 KiB buffer
 *                                      both print {"elapsed_ns":..}, sender side, until the ack
 *   ... SNDBUF                         (a fifth argument) setsockopt(SO_SNDBUF) on the writer's
 *                                      end first, as Ferry does before messages of 256 KiB+
 *   pingpong-tcp, oneway-tcp           the same over a TCP loopback connection (TCP_NODELAY, as
 *                                      Ferry sets), the reference of Ferry's TCP rows
 *
 * The writer sends header and payload in one write (as Ferry does).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (64 * 1024)

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long) t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what) { perror(what); exit(2); }

static void read_fully(int fd, void *p, size_t n) {
  char *c = p;
  while (n > 0) {
    ssize_t r = read(fd, c, n);
    if (r <= 0) die("read");
    c += r; n -= (size_t) r;
  }
}

static void write_fully(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t r = write(fd, c, n);
    if (r <= 0) die("write");
    c += r; n -= (size_t) r;
  }
}

/* Reads one frame with read(4) + read(n); returns its length. */
static uint32_t read_simple(int fd, char *payload) {
  uint32_t be;
  read_fully(fd, &be, 4);
  uint32_t n = ntohl(be);
  read_fully(fd, payload, n);
  return n;
}

/* A receive buffer holding many frames, like Ferry's. */
static char rbuf[BUF];
static size_t rpos, rlim;

static void need(int fd, size_t n) {
  if (rlim - rpos >= n) return;
  memmove(rbuf, rbuf + rpos, rlim - rpos);
  rlim -= rpos; rpos = 0;
  while (rlim < n) {
    ssize_t r = read(fd, rbuf + rlim, BUF - rlim);
    if (r <= 0) die("read");
    rlim += (size_t) r;
  }
}

static uint32_t read_buffered(int fd, char *payload) {
  need(fd, 4);
  uint32_t be;
  memcpy(&be, rbuf + rpos, 4);
  rpos += 4;
  uint32_t n = ntohl(be);
  size_t have = rlim - rpos;
  if (have >= n) {
    memcpy(payload, rbuf + rpos, n);
    rpos += n;
    return n;
  }
  memcpy(payload, rbuf + rpos, have);
  rpos = rlim = 0;
  size_t left = n - have;
  if (left >= BUF) {
    read_fully(fd, payload + have, left); /* large rest: straight into the caller's memory */
  } else {
    need(fd, left);
    memcpy(payload + have, rbuf, left);
    rpos = left;
  }
  return n;
}

static void write_frame(int fd, char *frame, uint32_t n) {
  uint32_t be = htonl(n);
  memcpy(frame, &be, 4);
  write_fully(fd, frame, (size_t) n + 4);
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *) a, y = *(const long long *) b;
  return x < y ? -1 : x > y;
}

/* A connected TCP pair over 127.0.0.1, both ends with TCP_NODELAY. */
static void tcp_pair(int sv[2]) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket");
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(listener, (struct sockaddr *) &a, len) != 0) die("bind");
  if (listen(listener, 1) != 0) die("listen");
  if (getsockname(listener, (struct sockaddr *) &a, &len) != 0) die("getsockname");
  sv[0] = socket(AF_INET, SOCK_STREAM, 0);
  if (sv[0] < 0) die("socket");
  if (connect(sv[0], (struct sockaddr *) &a, len) != 0) die("connect");
  sv[1] = accept(listener, NULL, NULL);
  if (sv[1] < 0) die("accept");
  close(listener);
  int one = 1;
  for (int i = 0; i < 2; i++) {
    if (setsockopt(sv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("setsockopt");
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: cref pingpong[-tcp]|oneway[-tcp] COUNT SIZE [simple|buffered [SNDBUF]]\n");
    return 2;
  }
  long count = atol(argv[2]);
  uint32_t size = (uint32_t) atol(argv[3]);
  int buffered = argc > 4 && strcmp(argv[4], "buffered") == 0;
  int sv[2];
  size_t kind = strlen(argv[1]);
  int tcp = kind > 4 && strcmp(argv[1] + kind - 4, "-tcp") == 0;
  if (tcp) {
    tcp_pair(sv);
  } else if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    die("socketpair");
  }
  if (argc > 5) {
    int sndbuf = atoi(argv[5]);
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0) die("setsockopt");
  }
  char *frame = calloc(1, (size_t) size + 4);
  char *payload = calloc(1, (size_t) size + 4);
  if (!frame || !payload) die("calloc");
  int pingpong = strncmp(argv[1], "pingpong", 8) == 0;
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(sv[0]);
    int fd = sv[1];
    for (long i = 0; i < count; i++) {
      uint32_t n = buffered ? read_buffered(fd, payload) : read_simple(fd, payload);
      if (pingpong) { memcpy(frame + 4, payload, n); write_frame(fd, frame, n); }
    }
    if (!pingpong) write_frame(fd, frame, 1);
    _exit(0);
  }
  close(sv[1]);
  int fd = sv[0];
  if (pingpong) {
    long long *rtt = malloc(sizeof(long long) * (size_t) count);
    for (long i = 0; i < count; i++) {
      long long t0 = now_ns();
      write_frame(fd, frame, size);
      read_simple(fd, payload);
      rtt[i] = now_ns() - t0;
    }
    qsort(rtt, (size_t) count, sizeof(long long), cmp);
    printf("{\"median_ns\":%lld,\"p99_ns\":%lld}\n", rtt[count / 2], rtt[(long) (count * 0.99)]);
  } else {
    long long t0 = now_ns();
    for (long i = 0; i < count; i++) write_frame(fd, frame, size);
    read_simple(fd, payload);
    printf("{\"elapsed_ns\":%lld}\n", now_ns() - t0);
  }
  waitpid(child, NULL, 0);
  return 0;
}
