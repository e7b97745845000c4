// SPDX-License-Identifier: (LGPL-2.1-or-later OR MIT)
/*
 * ExOS pipes: a byte-stream ring in the reader's frames, granted to the
 * writer (shm.c), with wake-ups by protected calls (call.c).
 *
 * The ring (frame 0 the header, frames 1.. the data): free-running 64-bit
 * byte counts, @tail advanced by the writer and @head by the reader, data
 * at count % size. Each side keeps its own count privately and never
 * believes the peer's: the reader copies only what tail - its head says,
 * after checking it is at most the ring's size, and the writer reuses only
 * what its tail - head says, after the same check. A peer that scribbles
 * on the header makes the other side fail with EPROTO, never read or write
 * outside the ring.
 *
 * Waiting. Each side registers an entry that no thread ever serves and
 * grants the peer a call capability for it, published in the header. A
 * side that must wait (reader: ring empty; writer: ring full) calls the
 * peer's entry with its capability: the call queues with no server and
 * sleeps in the kernel. The peer wakes it by registering a new entry,
 * granting and publishing a capability for it, and unregistering the old
 * entry, which fails the queued call (ECONNRESET) or, if the call is not
 * made yet, makes it fail at once (ENOENT or ECONNRESET). A call that
 * fails while the published capability is still the one it was made with
 * means the peer's entry went otherwise: the peer closed or its context
 * died (exit, kill -9). No thread, no signal, no futex.
 *
 * No lost wake-up (flag + re-check). The reader, before it sleeps:
 *   (R0) cap = the published capability;
 *   (R1) waiting = 1;  fence(seq_cst);  (R2) look at tail;  sleep if empty,
 *        in a call with cap.
 * The writer, after it adds data:
 *   (W1) tail += n (release);  fence(seq_cst);  (W2) look at waiting;
 *        wake if exchange(waiting, 0) was 1.
 * The two fences are totally ordered. If the reader's comes first, W2
 * sees waiting == 1 and the writer wakes it; if the writer's comes first,
 * R2 sees the new tail and the reader does not sleep. In the first case
 * the writer publishes a new capability after its fence, so after R0: the
 * reader's call names the entry the wake-up unregisters, or an older one,
 * and fails (taking the capability after R2 instead lost wake-ups: the
 * call could name the entry the wake-up had just registered). A wake-up
 * aimed at a reader that then did not sleep (both saw each other) leaves
 * it holding a capability for an entry that is gone: its next call fails
 * at once and it looks again, so extra wake-ups cost one loop, never a
 * hang. The writer waiting for room is the same with head and the
 * writer's flag. Closing sets the side's closed bit before unregistering
 * its entry, which fails the peer's call: the peer then sees the bit.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "ipc_internal.h"

#define RING_MAGIC	0x72696e676578f001ull
#define W_ATTACHED	0x1u
#define W_CLOSED	0x2u
#define W_SAW_CLOSE	0x4u	/* the writer saw R_CLOSED: it is done */
#define R_CLOSED	0x1u
/* How long a closing reader waits for an attached writer to let go. */
#define LINGER_MS	100

struct lx_ring {
	uint64_t magic;
	uint64_t size;				/* informational only */
	/* The writer's. */
	_Alignas(64) _Atomic uint64_t tail;
	_Atomic uint32_t w_state;
	_Atomic uint64_t r_wait_cap;		/* the reader waits with it */
	/* The reader's. */
	_Alignas(64) _Atomic uint64_t head;
	_Atomic uint32_t r_state;
	_Atomic uint64_t w_wait_cap;		/* the writer waits with it */
	/* Set by the side that sleeps, taken by the side that wakes it. */
	_Alignas(64) _Atomic uint32_t r_waiting;
	_Alignas(64) _Atomic uint32_t w_waiting;
};

struct exo_pipe {
	struct exo *exo;
	struct exo_shm *shm;
	struct lx_ring *ring;
	unsigned char *data;
	uint64_t size;		/* data bytes, computed here */
	uint64_t pos;		/* reader: head; writer: tail (ours, trusted) */
	uint64_t peer_cap;	/* what the peer waits with, for our entry */
	uint32_t peer_ctx;
	uint32_t entry;		/* never served: the peer waits on it */
	bool writer;
	bool peer_gone;		/* its entry went without a close */
};

/* Our slot and flag, and the peer's. */
static _Atomic uint64_t *my_wait_cap(struct exo_pipe *p)
{
	return p->writer ? &p->ring->w_wait_cap : &p->ring->r_wait_cap;
}

static _Atomic uint64_t *peer_wait_cap(struct exo_pipe *p)
{
	return p->writer ? &p->ring->r_wait_cap : &p->ring->w_wait_cap;
}

static _Atomic uint32_t *my_waiting(struct exo_pipe *p)
{
	return p->writer ? &p->ring->w_waiting : &p->ring->r_waiting;
}

static _Atomic uint32_t *peer_waiting(struct exo_pipe *p)
{
	return p->writer ? &p->ring->r_waiting : &p->ring->w_waiting;
}

/*
 * Can the writer still touch the ring? It is the reader's: when the
 * reader's context goes, so do the frames (the frame table says so with
 * no system call).
 */
static bool ring_ok(struct exo_pipe *p)
{
	if (!p->writer)
		return true;
	if (exo_shm_valid(p->shm) == 1)
		return true;
	p->peer_gone = true;
	return false;
}

/*
 * Wake the peer: a new entry and a capability for it, published, then the
 * old entry unregistered, which fails the peer's call on it. Not a
 * revocation of the old capability: a call that found its capability just
 * before EXO_IOC_CALL_REVOKE dropped it still queues after it, and nothing
 * would fail it (the module checks the capability outside the entry's
 * lock); an unregistered entry is marked dead under that lock, which every
 * call checks before it queues.
 */
static void pipe_wake(struct exo_pipe *p)
{
	uint32_t entry, old = p->entry;
	uint64_t cap;
	int ret;

	ret = exo_entry_register(p->exo, &entry);
	if (ret) {
		/*
		 * No entry to spare (64 in this context): wake by revoking
		 * the capability, which misses a call in that window.
		 */
		if (exo_call_grant(p->exo, old, p->peer_ctx, &cap) ||
		    !ring_ok(p))
			return;
		atomic_store(peer_wait_cap(p), cap);
		exo_call_revoke(p->exo, old, p->peer_ctx, p->peer_cap);
		p->peer_cap = cap;
		return;
	}
	ret = exo_call_grant(p->exo, entry, p->peer_ctx, &cap);
	if (ret || !ring_ok(p)) {
		/* ESRCH: the peer's context is gone. */
		if (ret == -ESRCH)
			p->peer_gone = true;
		exo_entry_unregister(p->exo, entry);
		return;
	}
	atomic_store(peer_wait_cap(p), cap);
	p->entry = entry;
	p->peer_cap = cap;
	exo_entry_unregister(p->exo, old);
}

/* After moving data: wake the peer if it sleeps (W1/W2 above). */
static void pipe_kick(struct exo_pipe *p)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(peer_waiting(p), memory_order_relaxed) &&
	    atomic_exchange(peer_waiting(p), 0))
		pipe_wake(p);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Sleep until @ready may have become true (R1/R2 above). Returns 0 (look
 * again) or -EINTR; a peer found gone sets p->peer_gone.
 */
static int pipe_sleep(struct exo_pipe *p, bool (*ready)(struct exo_pipe *))
{
	uint64_t w[EXO_CALL_WORDS] = { EXO_PIPE_MAGIC };
	uint64_t cap;
	int ret;

	/*
	 * The capability is read before the flag is set: if the re-check
	 * below misses the peer's data, the peer's wake-up comes after it
	 * and unregisters the entry this capability names (or one newer),
	 * which fails the call. Read after the re-check, it could be the
	 * capability for the entry that wake-up has just put in place, and
	 * the call would sleep through it.
	 */
	cap = atomic_load(my_wait_cap(p));
	atomic_store(my_waiting(p), 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (ready(p)) {
		atomic_exchange(my_waiting(p), 0);
		return 0;
	}
	if (!cap) {
		/* The writer has not attached yet: nothing to wait on. */
		atomic_exchange(my_waiting(p), 0);
		sleep_ms(1);
		return 0;
	}
	ret = exo_call(p->exo, cap, w);
	if (!ring_ok(p))
		return 0;
	atomic_exchange(my_waiting(p), 0);
	if (ret == -EINTR)
		return -EINTR;
	/* Woken: the peer published a new capability before it unregistered the old entry. */
	if (!ret || atomic_load(my_wait_cap(p)) != cap)
		return 0;
	p->peer_gone = true;
	return 0;
}

static bool can_read(struct exo_pipe *p)
{
	return atomic_load(&p->ring->tail) != p->pos ||
	       (atomic_load(&p->ring->w_state) & W_CLOSED);
}

static bool can_write(struct exo_pipe *p)
{
	if (!ring_ok(p))
		return true;
	return p->pos - atomic_load(&p->ring->head) < p->size ||
	       (atomic_load(&p->ring->r_state) & R_CLOSED);
}

static struct exo_pipe *pipe_new(struct exo *exo, struct exo_shm *shm,
				 bool writer)
{
	struct exo_pipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->exo = exo;
	p->shm = shm;
	p->ring = exo_shm_addr(shm);
	p->data = (unsigned char *)p->ring + exo_api(exo)->page_size;
	p->size = exo_shm_len(shm) - exo_api(exo)->page_size;
	p->writer = writer;
	return p;
}

/* Our entry and the peer's first capability for it, published. */
static int pipe_entry(struct exo_pipe *p)
{
	int ret = exo_entry_register(p->exo, &p->entry);

	if (ret)
		return ret;
	ret = exo_call_grant(p->exo, p->entry, p->peer_ctx, &p->peer_cap);
	if (ret) {
		exo_entry_unregister(p->exo, p->entry);
		return ret;
	}
	atomic_store(peer_wait_cap(p), p->peer_cap);
	return 0;
}

int exo_pipe_create(struct exo *exo, uint32_t writer_ctx, uint32_t nframes,
		    struct exo_pipe **out, struct exo_pipe_token *tok)
{
	struct exo_shm *shm;
	struct exo_pipe *p;
	exo_cap_t gcap;
	int ret;

	if (!nframes)
		nframes = EXO_PIPE_FRAMES;
	if (!exo || !out || !tok || nframes < 2 ||
	    nframes > EXO_RPC_FRAMES_MAX || (nframes & (nframes - 1)))
		return -EINVAL;
	if (writer_ctx == exo_api(exo)->ctx_id)
		return -EINVAL;
	ret = exo_shm_create(exo, nframes, &shm);
	if (ret)
		return ret;
	p = pipe_new(exo, shm, false);
	if (!p) {
		ret = -ENOMEM;
		goto destroy;
	}
	p->peer_ctx = writer_ctx;
	p->ring->magic = RING_MAGIC;
	p->ring->size = p->size;
	ret = exo_shm_grant(shm, writer_ctx, &gcap);
	if (ret)
		goto free;
	ret = pipe_entry(p);
	if (ret)
		goto free;
	*tok = (struct exo_pipe_token){
		.magic = EXO_PIPE_MAGIC,
		.ring = gcap,
		.nframes = nframes,
		.reader_ctx = exo_api(exo)->ctx_id,
	};
	*out = p;
	return 0;
free:
	free(p);
destroy:
	exo_shm_destroy(shm);
	return ret;
}

int exo_pipe_attach(struct exo *exo, const struct exo_pipe_token *tok,
		    struct exo_pipe **out)
{
	struct exo_shm *shm;
	struct exo_pipe *p;
	int ret;

	if (!exo || !tok || !out || tok->magic != EXO_PIPE_MAGIC ||
	    tok->nframes < 2 || tok->nframes > EXO_RPC_FRAMES_MAX)
		return -EINVAL;
	ret = exo_shm_attach(exo, tok->ring, tok->nframes, &shm);
	if (ret)
		return ret;
	p = pipe_new(exo, shm, true);
	if (!p) {
		ret = -ENOMEM;
		goto detach;
	}
	p->peer_ctx = tok->reader_ctx;
	if (p->ring->magic != RING_MAGIC ||
	    (atomic_load(&p->ring->w_state) & W_ATTACHED)) {
		ret = -EPROTO;
		goto free;
	}
	p->pos = atomic_load(&p->ring->tail);
	ret = pipe_entry(p);
	if (ret)
		goto free;
	atomic_fetch_or(&p->ring->w_state, W_ATTACHED);
	*out = p;
	return 0;
free:
	free(p);
detach:
	exo_shm_detach(shm);
	return ret;
}

/* Copy @n bytes at ring position @pos to or from @buf. */
static void ring_copy(struct exo_pipe *p, uint64_t pos, void *buf, size_t n,
		      bool to_ring)
{
	size_t off = pos % p->size, first = p->size - off;

	if (first > n)
		first = n;
	if (to_ring) {
		memcpy(p->data + off, buf, first);
		memcpy(p->data, (char *)buf + first, n - first);
	} else {
		memcpy(buf, p->data + off, first);
		memcpy((char *)buf + first, p->data, n - first);
	}
}

long exo_pipe_read(struct exo_pipe *p, void *buf, size_t len, int flags)
{
	uint64_t tail, avail;
	int ret;

	if (!p || p->writer || (!buf && len) || (flags & ~EXO_PIPE_NONBLOCK))
		return -EINVAL;
	if (!len)
		return 0;
	for (;;) {
		tail = atomic_load_explicit(&p->ring->tail,
					    memory_order_acquire);
		avail = tail - p->pos;
		if (avail > p->size)
			return -EPROTO;
		if (avail)
			break;
		if (atomic_load(&p->ring->w_state) & W_CLOSED) {
			/* The last bytes went in before the bit. */
			if (atomic_load(&p->ring->tail) != tail)
				continue;
			return 0;
		}
		if (p->peer_gone)
			return -ECONNRESET;
		if (flags & EXO_PIPE_NONBLOCK)
			return -EAGAIN;
		ret = pipe_sleep(p, can_read);
		if (ret)
			return ret;
	}
	if (avail > len)
		avail = len;
	ring_copy(p, p->pos, buf, avail, false);
	p->pos += avail;
	atomic_store_explicit(&p->ring->head, p->pos, memory_order_release);
	pipe_kick(p);
	return (long)avail;
}

long exo_pipe_write(struct exo_pipe *p, const void *buf, size_t len,
		    int flags)
{
	uint64_t head, used, n;
	size_t done = 0;
	long err = 0;
	int ret;

	if (!p || !p->writer || (!buf && len) ||
	    (flags & ~EXO_PIPE_NONBLOCK))
		return -EINVAL;
	while (done < len) {
		if (!ring_ok(p) ||
		    (atomic_load(&p->ring->r_state) & R_CLOSED)) {
			if (!p->peer_gone)
				atomic_fetch_or(&p->ring->w_state,
						W_SAW_CLOSE);
			err = -EPIPE;
			break;
		}
		head = atomic_load_explicit(&p->ring->head,
					    memory_order_acquire);
		used = p->pos - head;
		if (used > p->size) {
			err = -EPROTO;
			break;
		}
		if (used == p->size) {
			if (p->peer_gone) {
				err = -EPIPE;
				break;
			}
			if (flags & EXO_PIPE_NONBLOCK) {
				err = -EAGAIN;
				break;
			}
			ret = pipe_sleep(p, can_write);
			if (ret) {
				err = ret;
				break;
			}
			continue;
		}
		n = p->size - used;
		if (n > len - done)
			n = len - done;
		ring_copy(p, p->pos, (char *)buf + done, n, true);
		p->pos += n;
		done += n;
		atomic_store_explicit(&p->ring->tail, p->pos,
				      memory_order_release);
		pipe_kick(p);
	}
	return done ? (long)done : err;
}

int exo_pipe_close(struct exo_pipe *p)
{
	int ret, i;

	if (!p)
		return -EINVAL;
	if (p->writer) {
		if (ring_ok(p))
			atomic_fetch_or(&p->ring->w_state, W_CLOSED);
	} else {
		atomic_fetch_or(&p->ring->r_state, R_CLOSED);
	}
	/* Fails the peer's waiting call: it wakes and sees the bit. */
	ret = exo_entry_unregister(p->exo, p->entry);
	if (p->writer) {
		exo_shm_detach(p->shm);
	} else {
		/*
		 * The writer may be copying into the ring: give it a moment
		 * to see R_CLOSED before its frames go (ipc.rst, Trust).
		 */
		for (i = 0; i < LINGER_MS; i++) {
			uint32_t w = atomic_load(&p->ring->w_state);

			if (!(w & W_ATTACHED) || (w & (W_CLOSED | W_SAW_CLOSE)))
				break;
			sleep_ms(1);
		}
		exo_shm_destroy(p->shm);
	}
	free(p);
	return ret;
}
