/*
 * The wire: the one checked reader every network byte goes through, the
 * writer, instructions, and fragments.
 *
 * Instruction (all numbers LEB128 varints unless said):
 *     u8 version | old_num | new_num | ack_num | throwaway_num |
 *     diff_len | diff | u8 chaff_len | chaff
 * Fragment:
 *     id (varint) | u16 final << 15 | index | payload
 */
#include "ssp.h"

#include <stdlib.h>
#include <string.h>

#include "../crypto/crypto.h"

const char *ssp_strerror(int err)
{
	switch (err) {
	case SSP_OK: return "success";
	case SSP_EMALFORMED: return "malformed data";
	case SSP_ETOOBIG: return "over a size bound";
	case SSP_ENOMEM: return "out of memory";
	case SSP_EINVAL: return "invalid argument";
	case SSP_EVERSION: return "unknown protocol version";
	case SSP_EAGAIN: return "nothing to do";
	case SSP_ESYSTEM: return "system call failed";
	case SSP_ECRYPTO: return "authentication failed";
	case SSP_EREPLAY: return "replayed or stale packet";
	case SSP_ENEWKEY: return "a datagram under the new key";
	}
	return "unknown error";
}

/* ---- reader ---------------------------------------------------------- */

void ssp_reader_init(struct ssp_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = data ? len : 0;
	r->off = 0;
}

size_t ssp_reader_left(const struct ssp_reader *r)
{
	return r->len - r->off;
}

int ssp_get_bytes(struct ssp_reader *r, size_t n, const uint8_t **p)
{
	/* Written so it cannot overflow: off <= len always holds. */
	if (n > r->len - r->off)
		return SSP_EMALFORMED;
	if (p)
		*p = r->data + r->off;
	r->off += n;
	return SSP_OK;
}

int ssp_get_u8(struct ssp_reader *r, uint8_t *v)
{
	const uint8_t *p;
	int rc = ssp_get_bytes(r, 1, &p);
	if (rc == SSP_OK)
		*v = p[0];
	return rc;
}

int ssp_get_u16(struct ssp_reader *r, uint16_t *v)
{
	const uint8_t *p;
	int rc = ssp_get_bytes(r, 2, &p);
	if (rc == SSP_OK)
		*v = (uint16_t)(p[0] << 8 | p[1]);
	return rc;
}

int ssp_get_u64(struct ssp_reader *r, uint64_t *v)
{
	const uint8_t *p;
	int rc = ssp_get_bytes(r, 8, &p);
	if (rc == SSP_OK) {
		uint64_t x = 0;
		for (int i = 0; i < 8; i++)
			x = x << 8 | p[i];
		*v = x;
	}
	return rc;
}

int ssp_get_varint(struct ssp_reader *r, uint64_t *v)
{
	uint64_t x = 0;
	size_t off = r->off;

	for (int i = 0; i < 10; i++) {
		if (off >= r->len)
			return SSP_EMALFORMED;
		uint8_t b = r->data[off++];
		/* The tenth byte may only carry the top bit of 64. */
		if (i == 9 && b > 1)
			return SSP_EMALFORMED;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			/* Minimal encoding only: no trailing zero groups. */
			if (i > 0 && b == 0)
				return SSP_EMALFORMED;
			r->off = off;
			*v = x;
			return SSP_OK;
		}
	}
	return SSP_EMALFORMED;
}

/* ---- writer ---------------------------------------------------------- */

static bool reserve(struct ssp_writer *w, size_t n)
{
	if (w->failed)
		return false;
	if (n <= w->cap - w->len)
		return true;
	size_t cap = w->cap ? w->cap : 256;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2) {
			w->failed = true;
			return false;
		}
		cap *= 2;
	}
	uint8_t *d = realloc(w->data, cap);
	if (d == NULL) {
		w->failed = true;
		return false;
	}
	w->data = d;
	w->cap = cap;
	return true;
}

void ssp_put_bytes(struct ssp_writer *w, const void *p, size_t n)
{
	if (n == 0 || !reserve(w, n))
		return;
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

void ssp_put_u8(struct ssp_writer *w, uint8_t v)
{
	ssp_put_bytes(w, &v, 1);
}

void ssp_put_u16(struct ssp_writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	ssp_put_bytes(w, b, 2);
}

void ssp_put_u64(struct ssp_writer *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	ssp_put_bytes(w, b, 8);
}

void ssp_put_varint(struct ssp_writer *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;
	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	ssp_put_bytes(w, b, n);
}

int ssp_writer_status(const struct ssp_writer *w)
{
	return w->failed ? SSP_ENOMEM : SSP_OK;
}

void ssp_writer_free(struct ssp_writer *w)
{
	free(w->data);
	memset(w, 0, sizeof *w);
}

/* ---- instructions ---------------------------------------------------- */

int ssp_instruction_encode(const struct ssp_instruction *in,
                           struct ssp_writer *w)
{
	uint8_t chaff[SSP_MAX_CHAFF];

	if (in->diff_len > SSP_MAX_DIFF || in->chaff_len > SSP_MAX_CHAFF ||
	    (in->diff == NULL && in->diff_len > 0))
		return SSP_EINVAL;
	if (crypto_random(chaff, in->chaff_len) != CRYPTO_OK)
		return SSP_ESYSTEM;
	ssp_put_u8(w, SSP_PROTOCOL_VERSION);
	ssp_put_varint(w, in->old_num);
	ssp_put_varint(w, in->new_num);
	ssp_put_varint(w, in->ack_num);
	ssp_put_varint(w, in->throwaway_num);
	ssp_put_varint(w, in->diff_len);
	ssp_put_bytes(w, in->diff, in->diff_len);
	ssp_put_u8(w, in->chaff_len);
	ssp_put_bytes(w, chaff, in->chaff_len);
	return ssp_writer_status(w);
}

int ssp_instruction_decode(struct ssp_instruction *out, const uint8_t *data,
                           size_t len)
{
	struct ssp_reader r;
	uint8_t version;
	uint64_t diff_len;

	ssp_reader_init(&r, data, len);
	memset(out, 0, sizeof *out);
	if (ssp_get_u8(&r, &version) != SSP_OK)
		return SSP_EMALFORMED;
	if (version != SSP_PROTOCOL_VERSION)
		return SSP_EVERSION;
	if (ssp_get_varint(&r, &out->old_num) != SSP_OK ||
	    ssp_get_varint(&r, &out->new_num) != SSP_OK ||
	    ssp_get_varint(&r, &out->ack_num) != SSP_OK ||
	    ssp_get_varint(&r, &out->throwaway_num) != SSP_OK ||
	    ssp_get_varint(&r, &diff_len) != SSP_OK)
		return SSP_EMALFORMED;
	if (diff_len > SSP_MAX_DIFF)
		return SSP_ETOOBIG;
	if (ssp_get_bytes(&r, (size_t)diff_len, &out->diff) != SSP_OK ||
	    ssp_get_u8(&r, &out->chaff_len) != SSP_OK)
		return SSP_EMALFORMED;
	out->diff_len = (size_t)diff_len;
	if (out->chaff_len > SSP_MAX_CHAFF)
		return SSP_ETOOBIG;
	if (ssp_get_bytes(&r, out->chaff_len, NULL) != SSP_OK ||
	    ssp_reader_left(&r) != 0)
		return SSP_EMALFORMED;
	/* A state is only ever built on an older one; old == new is a pure
	 * acknowledgement and carries no diff. */
	if (out->old_num > out->new_num ||
	    (out->old_num == out->new_num && out->diff_len > 0))
		return SSP_EMALFORMED;
	return SSP_OK;
}

/* ---- fragments ------------------------------------------------------- */

int ssp_fragment(uint64_t id, const uint8_t *data, size_t len, size_t mtu,
                 int (*emit)(void *ctx, const uint8_t *frag, size_t n),
                 void *ctx)
{
	struct ssp_writer w = { 0 };
	size_t room, count;
	int rc = SSP_OK;

	if (mtu <= SSP_FRAGMENT_HEADER_MAX || (data == NULL && len > 0))
		return SSP_EINVAL;
	room = mtu - SSP_FRAGMENT_HEADER_MAX;
	count = len == 0 ? 1 : (len + room - 1) / room;
	if (count > SSP_MAX_FRAGMENTS || len > SSP_MAX_INSTRUCTION)
		return SSP_ETOOBIG;
	for (size_t i = 0; i < count && rc == SSP_OK; i++) {
		size_t n = len - i * room < room ? len - i * room : room;
		w.len = 0;
		ssp_put_varint(&w, id);
		ssp_put_u16(&w, (uint16_t)((i + 1 == count ? 0x8000u : 0) | i));
		ssp_put_bytes(&w, data + i * room, n);
		rc = ssp_writer_status(&w);
		if (rc == SSP_OK)
			rc = emit(ctx, w.data, w.len);
	}
	ssp_writer_free(&w);
	return rc;
}

struct ssp_reassembly {
	bool active;
	uint64_t id;
	int count;          /* fragments expected, once the final one came */
	int have;           /* distinct fragments held */
	size_t bytes;       /* payload bytes held */
	int cap;            /* slots allocated */
	uint8_t **frag;     /* payloads by index */
	uint16_t *len;
	uint8_t *out;       /* the last completed instruction */
	size_t out_cap;
	uint64_t done_id;   /* ids up to this one are finished */
	bool done_any;
};

struct ssp_reassembly *ssp_reassembly_new(void)
{
	return calloc(1, sizeof(struct ssp_reassembly));
}

static void drop_current(struct ssp_reassembly *ra)
{
	for (int i = 0; i < ra->cap; i++) {
		free(ra->frag[i]);
		ra->frag[i] = NULL;
	}
	ra->active = false;
	ra->count = 0;
	ra->have = 0;
	ra->bytes = 0;
}

void ssp_reassembly_free(struct ssp_reassembly *ra)
{
	if (ra == NULL)
		return;
	drop_current(ra);
	free(ra->frag);
	free(ra->len);
	free(ra->out);
	free(ra);
}

static int grow_slots(struct ssp_reassembly *ra, int need)
{
	if (need <= ra->cap)
		return SSP_OK;
	int cap = ra->cap ? ra->cap : 8;
	while (cap < need)
		cap *= 2;
	if (cap > SSP_MAX_FRAGMENTS)
		cap = SSP_MAX_FRAGMENTS;
	uint8_t **f = realloc(ra->frag, (size_t)cap * sizeof *f);
	if (f == NULL)
		return SSP_ENOMEM;
	ra->frag = f;
	uint16_t *l = realloc(ra->len, (size_t)cap * sizeof *l);
	if (l == NULL)
		return SSP_ENOMEM;
	ra->len = l;
	for (int i = ra->cap; i < cap; i++) {
		ra->frag[i] = NULL;
		ra->len[i] = 0;
	}
	ra->cap = cap;
	return SSP_OK;
}

int ssp_reassembly_add(struct ssp_reassembly *ra, const uint8_t *frag,
                       size_t n, const uint8_t **data, size_t *len)
{
	struct ssp_reader r;
	uint64_t id;
	uint16_t word;
	const uint8_t *payload;

	ssp_reader_init(&r, frag, n);
	if (ssp_get_varint(&r, &id) != SSP_OK || ssp_get_u16(&r, &word) != SSP_OK)
		return SSP_EMALFORMED;
	size_t plen = ssp_reader_left(&r);
	ssp_get_bytes(&r, plen, &payload);
	bool final = word & 0x8000;
	int index = word & 0x7fff;
	if (index >= SSP_MAX_FRAGMENTS)
		return SSP_ETOOBIG;
	if (plen > UINT16_MAX)
		return SSP_ETOOBIG;

	/* Older than what is being built or already finished: stale. */
	if ((ra->done_any && id <= ra->done_id) || (ra->active && id < ra->id))
		return SSP_EREPLAY;
	if (!ra->active || id > ra->id) {
		drop_current(ra);
		ra->active = true;
		ra->id = id;
	}
	if (final) {
		if (ra->count && ra->count != index + 1)
			return SSP_EMALFORMED; /* two different ends */
		for (int i = index + 1; i < ra->cap; i++)
			if (ra->frag[i])
				return SSP_EMALFORMED; /* data past the end */
		ra->count = index + 1;
	} else if (ra->count && index >= ra->count - 1) {
		return SSP_EMALFORMED;
	}
	int rc = grow_slots(ra, index + 1);
	if (rc != SSP_OK)
		return rc;
	if (ra->frag[index])
		return SSP_EREPLAY; /* duplicate */
	if (plen > SSP_MAX_INSTRUCTION - ra->bytes)
		return SSP_ETOOBIG;
	ra->frag[index] = malloc(plen ? plen : 1);
	if (ra->frag[index] == NULL)
		return SSP_ENOMEM;
	memcpy(ra->frag[index], payload, plen);
	ra->len[index] = (uint16_t)plen;
	ra->have++;
	ra->bytes += plen;
	if (ra->count == 0 || ra->have < ra->count)
		return 0;

	/* Complete: join the pieces. */
	if (ra->out_cap < ra->bytes || ra->out == NULL) {
		uint8_t *o = realloc(ra->out, ra->bytes ? ra->bytes : 1);
		if (o == NULL)
			return SSP_ENOMEM;
		ra->out = o;
		ra->out_cap = ra->bytes ? ra->bytes : 1;
	}
	size_t off = 0;
	for (int i = 0; i < ra->count; i++) {
		memcpy(ra->out + off, ra->frag[i], ra->len[i]);
		off += ra->len[i];
	}
	*data = ra->out;
	*len = off;
	ra->done_id = ra->id;
	ra->done_any = true;
	drop_current(ra);
	return 1;
}
