// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * exo-ipc-demo: two library OSes in two processes talk the ExOS way
 * (Documentation/ipc.rst): a writer sends a reader text through an exo
 * pipe (a ring in granted frames; wake-ups by protected calls), then a
 * client calls a server's procedures through exo RPC (arguments in
 * registers, or in the server's frames when they are large).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libexo.h>

#define P_ADD	1	/* two numbers in, their sum out: in registers */
#define P_UPPER	2	/* text in, upper-case text out: in a frame */
#define P_DIV	3	/* a / b, or EDOM: the server's own error */

static void die(const char *what, long err)
{
	fprintf(stderr, "exo-ipc-demo: %s: %s\n", what, strerror(-err));
	exit(1);
}

static uint32_t ctx_id(struct exo *exo)
{
	return exo_api(exo)->ctx_id;
}

static int p_add(void *arg, struct exo_rpc_req *req)
{
	int64_t ab[2] = { 0, 0 }, sum;

	(void)arg;
	if (req->in_len != sizeof(ab))
		return EINVAL;
	memcpy(ab, req->in, sizeof(ab));
	sum = ab[0] + ab[1];
	memcpy(req->out, &sum, sizeof(sum));
	req->out_len = sizeof(sum);
	return 0;
}

static int p_upper(void *arg, struct exo_rpc_req *req)
{
	const char *in = req->in;
	char *out = req->out;	/* the same frame: in place */
	size_t i;

	(void)arg;
	for (i = 0; i < req->in_len; i++)
		out[i] = toupper((unsigned char)in[i]);
	req->out_len = req->in_len;
	return 0;
}

static int p_div(void *arg, struct exo_rpc_req *req)
{
	int64_t ab[2] = { 0, 0 };

	(void)arg;
	memcpy(ab, req->in, req->in_len < sizeof(ab) ? req->in_len : sizeof(ab));
	if (!ab[1])
		return EDOM;
	ab[0] /= ab[1];
	memcpy(req->out, ab, 8);
	req->out_len = 8;
	return 0;
}

/* The child: the pipe's writer, then the RPC server. */
static int child(int fd)
{
	static const char *lines[] = {
		"exokernels protect, library OSes manage;\n",
		"these lines went through frames the reader owns,\n",
		"with a protected call only to wake a sleeping reader.\n",
	};
	struct exo_pipe_token tok;
	struct exo_rpc_server *srv;
	struct exo_pipe *p;
	struct exo *exo;
	uint32_t id, peer;
	uint64_t cap;
	unsigned int i;
	long ret;

	ret = exo_open(&exo);
	if (ret)
		die("exo_open", ret);
	id = ctx_id(exo);
	if (write(fd, &id, 4) != 4 ||
	    read(fd, &tok, sizeof(tok)) != sizeof(tok))
		return 1;
	ret = exo_pipe_attach(exo, &tok, &p);
	if (ret)
		die("exo_pipe_attach", ret);
	for (i = 0; i < 3; i++) {
		ret = exo_pipe_write(p, lines[i], strlen(lines[i]), 0);
		if (ret < 0)
			die("exo_pipe_write", ret);
		printf("  writer (ctx %u): wrote %ld bytes\n", id, ret);
	}
	exo_pipe_close(p);
	printf("  writer: closed its end\n");
	fflush(stdout);

	/* Now a server: three procedures, a call capability for the peer. */
	if (read(fd, &peer, 4) != 4)
		return 1;
	if ((ret = exo_rpc_server_create(exo, &srv)) ||
	    (ret = exo_rpc_register(srv, P_ADD, p_add, NULL)) ||
	    (ret = exo_rpc_register(srv, P_UPPER, p_upper, NULL)) ||
	    (ret = exo_rpc_register(srv, P_DIV, p_div, NULL)) ||
	    (ret = exo_rpc_grant(srv, peer, &cap)))
		die("rpc server", ret);
	if (write(fd, &cap, 8) != 8)
		return 1;
	/* Serves until killed. */
	ret = exo_rpc_serve(srv);
	die("exo_rpc_serve", ret);
	return 1;
}

int main(void)
{
	char text[512], big[3000];
	struct exo_pipe_token tok;
	struct exo_rpc_client *cl;
	struct exo_pipe *p;
	struct exo *exo;
	int64_t ab[2], r;
	uint32_t wid, id;
	uint64_t cap;
	size_t len, got = 0;
	long ret, n;
	int sv[2];
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("exo-ipc-demo: a pipe and RPC between two library OSes\n");
	ret = exo_open(&exo);
	if (ret)
		die("exo_open", ret);
	if (!(exo_api(exo)->features & EXO_FEAT_CALL)) {
		printf("exo-ipc-demo: the module has no protected calls\n");
		return 1;
	}
	/* Context ids and tokens travel over a socket: any means will do. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair", -errno);
	pid = fork();
	if (!pid) {
		close(sv[0]);
		exit(child(sv[1]));
	}
	close(sv[1]);
	id = ctx_id(exo);
	if (read(sv[0], &wid, 4) != 4)
		die("bootstrap", -EIO);

	printf("reader (ctx %u): a pipe from ctx %u, its ring in 16 of my "
	       "frames, granted to it\n", id, wid);
	ret = exo_pipe_create(exo, wid, 0, &p, &tok);
	if (ret)
		die("exo_pipe_create", ret);
	if (write(sv[0], &tok, sizeof(tok)) != sizeof(tok))
		die("bootstrap", -EIO);
	while ((n = exo_pipe_read(p, text + got, sizeof(text) - 1 - got, 0)) > 0)
		got += n;
	if (n < 0)
		die("exo_pipe_read", n);
	text[got] = '\0';
	printf("reader: %zu bytes, then end of file:\n%s", got, text);
	exo_pipe_close(p);

	printf("client (ctx %u): binding to ctx %u's RPC entry, with a "
	       "buffer of 1 frame\n", id, wid);
	if (write(sv[0], &id, 4) != 4 || read(sv[0], &cap, 8) != 8)
		die("bootstrap", -EIO);
	ret = exo_rpc_bind(exo, cap, 1, &cl);
	if (ret)
		die("exo_rpc_bind", ret);
	ab[0] = 40;
	ab[1] = 2;
	ret = exo_rpc_call(cl, P_ADD, ab, sizeof(ab), &r, sizeof(r), &len);
	if (ret)
		die("add", ret < 0 ? ret : -ret);
	printf("client: add(40, 2) = %lld (arguments and result in "
	       "registers)\n", (long long)r);
	memset(big, 'x', sizeof(big));
	memcpy(big, "a large argument ", 17);
	ret = exo_rpc_call(cl, P_UPPER, big, sizeof(big), big, sizeof(big),
			   &len);
	if (ret)
		die("upper", ret < 0 ? ret : -ret);
	printf("client: upper(%zu bytes) = \"%.20s...\" (through the "
	       "server's frame)\n", sizeof(big), big);
	ab[1] = 0;
	ret = exo_rpc_call(cl, P_DIV, ab, sizeof(ab), &r, sizeof(r), &len);
	printf("client: div(40, 0): the server says %s (%ld), the transport "
	       "was fine\n", ret > 0 ? strerror(ret) : "?", ret);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ret = exo_rpc_call(cl, P_ADD, ab, sizeof(ab), &r, sizeof(r), &len);
	printf("client: after the server was killed: %s (%ld), from the "
	       "transport\n", ret < 0 ? strerror(-ret) : "?", ret);
	exo_rpc_unbind(cl);
	exo_close(exo);
	printf("exo-ipc-demo: done\n");
	return 0;
}
