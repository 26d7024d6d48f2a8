/*
 * Datagrams over a byte stream (ssp.h, "stream"): when UDP is blocked,
 * the same sealed datagrams travel through ssh. Each is framed as a
 * two-byte big-endian length and its bytes; the length is read through
 * the checked reader, and one over SSP_MAX_DATAGRAM ends the stream.
 * A stream may start with a preamble line that the peer prints once it
 * relays (what a login shell prints before it is skipped).
 */
#include "ssp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME_HEADER 2
#define PREAMBLE_MAX 65536   /* bytes skipped looking for it, at most */

struct ssp_stream {
	int rfd, wfd;
	char preamble[32];       /* "" once found, or none asked for */
	size_t skipped;
	uint8_t in[16384];
	size_t have;
	/* A frame the peer has only part of (a socket took less): the rest
	 * goes before anything else, so that frames stay whole. */
	uint8_t out[FRAME_HEADER + SSP_MAX_DATAGRAM];
	size_t out_len, out_off;
};

int ssp_stream_new(struct ssp_stream **out, int rfd, int wfd, const char *preamble)
{
	struct ssp_stream *s = calloc(1, sizeof *s);
	if (s == NULL)
		return SSP_ENOMEM;
	if (preamble != NULL && strlen(preamble) >= sizeof s->preamble) {
		free(s);
		return SSP_EINVAL;
	}
	s->rfd = rfd;
	s->wfd = wfd;
	if (preamble != NULL)
		memcpy(s->preamble, preamble, strlen(preamble) + 1);
	*out = s;
	return SSP_OK;
}

void ssp_stream_free(struct ssp_stream *s)
{
	if (s == NULL)
		return;
	close(s->rfd);
	if (s->wfd != s->rfd)
		close(s->wfd);
	free(s);
}

int ssp_stream_fd(const struct ssp_stream *s) { return s->rfd; }

/* What is left of a frame already begun: SSP_OK when it is all out. */
static int flush(struct ssp_stream *s)
{
	while (s->out_off < s->out_len) {
		ssize_t k = write(s->wfd, s->out + s->out_off, s->out_len - s->out_off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SSP_EAGAIN;
		if (k <= 0)
			return SSP_ESYSTEM;
		s->out_off += (size_t)k;
	}
	s->out_len = s->out_off = 0;
	return SSP_OK;
}

int ssp_stream_write(struct ssp_stream *s, const uint8_t *dg, size_t n)
{
	if (n > SSP_MAX_DATAGRAM)
		return SSP_ETOOBIG;
	int rc = flush(s);
	if (rc != SSP_OK)
		return rc; /* full: this one is lost, as on a full socket */
	s->out[0] = (uint8_t)(n >> 8);
	s->out[1] = (uint8_t)n;
	memcpy(s->out + FRAME_HEADER, dg, n);
	s->out_len = FRAME_HEADER + n;
	rc = flush(s);
	return rc == SSP_EAGAIN ? SSP_OK : rc; /* the rest goes with the next */
}

/* Drop what comes before the preamble line, and the line. SSP_OK once it
 * has been seen. */
static int skip_preamble(struct ssp_stream *s)
{
	size_t pl = strlen(s->preamble);
	if (pl == 0)
		return SSP_OK;
	for (size_t i = 0; i + pl <= s->have; i++) {
		if (memcmp(s->in + i, s->preamble, pl) == 0) {
			s->have -= i + pl;
			memmove(s->in, s->in + i + pl, s->have);
			s->preamble[0] = '\0';
			return SSP_OK;
		}
	}
	/* Keep the tail that may be the preamble's start. */
	size_t keep = s->have < pl - 1 ? s->have : pl - 1;
	s->skipped += s->have - keep;
	memmove(s->in, s->in + s->have - keep, keep);
	s->have = keep;
	return s->skipped > PREAMBLE_MAX ? SSP_EMALFORMED : SSP_EAGAIN;
}

int ssp_stream_read(struct ssp_stream *s, uint8_t *dg, size_t cap, size_t *n)
{
	for (int round = 0; round < 2; round++) {
		if (s->preamble[0] == '\0' && s->have >= FRAME_HEADER) {
			struct ssp_reader r;
			uint16_t len;
			const uint8_t *p;
			ssp_reader_init(&r, s->in, s->have);
			ssp_get_u16(&r, &len);
			if (len > SSP_MAX_DATAGRAM || len > cap)
				return SSP_EMALFORMED;
			if (ssp_get_bytes(&r, len, &p) == SSP_OK) {
				memcpy(dg, p, len);
				*n = len;
				s->have -= FRAME_HEADER + (size_t)len;
				memmove(s->in, s->in + FRAME_HEADER + len, s->have);
				return SSP_OK;
			}
		}
		if (round == 1)
			break;
		ssize_t k = read(s->rfd, s->in + s->have, sizeof s->in - s->have);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return SSP_EAGAIN;
		if (k <= 0)
			return SSP_ESYSTEM; /* the stream ended */
		s->have += (size_t)k;
		int rc = skip_preamble(s);
		if (rc != SSP_OK)
			return rc;
	}
	return SSP_EAGAIN;
}
