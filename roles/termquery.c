/*
 * What the user's terminal says of itself: the questions, and the reader
 * that takes their answers out of the keys (termquery.h).
 */
#include "termquery.h"

#include <string.h>

#include "../term/term.h"

enum { GROUND, ESC, CSI, OSC, OSC_ESC };

/* Colours 10 and 11 (the default foreground and background), the first
 * 16 of the palette, the kitty keyboard flags, and DA1 last; and word of
 * colour changes from now on (2031). */
static const char questions[] =
	"\033[?2031h\033]10;?\033\\\033]11;?\033\\"
	"\033]4;0;?;1;?;2;?;3;?;4;?;5;?;6;?;7;?;8;?;9;?;10;?;11;?;12;?;13;?;14;?;15;?\033\\"
	"\033[?u\033[c";

const char *termquery_start(struct termquery *q, uint64_t now)
{
	memset(q, 0, sizeof *q);
	q->active = true;
	q->deadline = now + TERMQUERY_WAIT_MS;
	return questions;
}

/* A hexadecimal component of 1 to 4 digits at *p, up to end, scaled to
 * 8 bits; -1 if there is none. */
static int component(const uint8_t **p, const uint8_t *end)
{
	unsigned v = 0, digits = 0;
	while (*p < end && digits < 5) {
		uint8_t c = **p;
		unsigned d = c >= '0' && c <= '9' ? c - '0' + 0u :
		             c >= 'a' && c <= 'f' ? c - 'a' + 10u :
		             c >= 'A' && c <= 'F' ? c - 'A' + 10u : 16u;
		if (d == 16)
			break;
		v = v * 16 + d;
		digits++;
		(*p)++;
	}
	if (digits == 0 || digits > 4)
		return -1;
	unsigned max = (1u << (4 * digits)) - 1;
	return (int)((v * 255 + max / 2) / max);
}

/* "rgb:R/G/B" (each 1 to 4 hex digits) in [p, end): 0xRRGGBB, or -1. */
static long colour_spec(const uint8_t *p, const uint8_t *end)
{
	if (end - p < 4 || memcmp(p, "rgb:", 4) != 0)
		return -1;
	p += 4;
	long rgb = 0;
	for (int i = 0; i < 3; i++) {
		if (i > 0 && (p == end || *p++ != '/'))
			return -1;
		int c = component(&p, end);
		if (c < 0)
			return -1;
		rgb = rgb << 8 | c;
	}
	return p == end ? rgb : -1;
}

/* A decimal number at *p, up to end and the next ';': -1 if none. */
static long number(const uint8_t **p, const uint8_t *end)
{
	long v = -1;
	while (*p < end && **p >= '0' && **p <= '9' && v < 100000)
		v = (v < 0 ? 0 : v * 10) + (*(*p)++ - '0');
	return v;
}

/* An OSC answer, its text [p, end) (after "ESC ]", before the ST):
 * "10;SPEC", "11;SPEC" or "4;N;SPEC". */
static void osc_answer(struct termquery *q, const uint8_t *p, const uint8_t *end)
{
	long cmd = number(&p, end), which;
	if (p == end || *p++ != ';')
		return;
	if (cmd == 10 || cmd == 11) {
		which = cmd == 10 ? TERM_COLOUR_FG : TERM_COLOUR_BG;
	} else if (cmd == 4) {
		which = number(&p, end);
		if (which < 0 || which > 255 || p == end || *p++ != ';')
			return;
	} else {
		return;
	}
	long rgb = colour_spec(p, end);
	if (rgb >= 0)
		q->said.colour[which] = SYNC_COLOUR_KNOWN | (uint32_t)rgb;
}

/* A control sequence read whole: an answer (kept), or keys (to out). */
static size_t csi_done(struct termquery *q, uint8_t *out)
{
	uint8_t final = q->seq[q->seq_len - 1];
	if (q->seq_len >= 4 && q->seq[2] == '?' && (final == 'c' || final == 'u')) {
		if (final == 'c')
			q->deadline = 0; /* DA1: every answer is in */
		else
			q->said.keys |= TERM_KEYS_KITTY;
		return 0;
	}
	memcpy(out, q->seq, q->seq_len);
	return q->seq_len;
}

size_t termquery_filter(struct termquery *q, const uint8_t *in, size_t n,
                        uint8_t *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];
		switch (q->state) {
		case GROUND:
			if (b == 0x1b) {
				q->seq[0] = b;
				q->seq_len = 1;
				q->state = ESC;
			} else {
				out[o++] = b;
			}
			continue;
		case ESC:
			if (b == '[' || b == ']') {
				q->seq[q->seq_len++] = b;
				q->state = b == '[' ? CSI : OSC;
			} else {
				/* ESC and a key (Alt-x), or ESC ESC */
				out[o++] = 0x1b;
				q->state = GROUND;
				i--;
			}
			continue;
		case OSC_ESC:
			if (b == '\\') {
				osc_answer(q, q->seq + 2, q->seq + q->seq_len);
				q->state = GROUND;
				continue;
			}
			/* not an ST: what was held is keys after all */
			memcpy(out + o, q->seq, q->seq_len);
			o += q->seq_len;
			q->seq[0] = 0x1b;
			q->seq_len = 1;
			q->state = ESC;
			i--;
			continue;
		}
		if (q->state == OSC && (b == 0x07 || b == 0x1b)) {
			if (b == 0x07) {
				osc_answer(q, q->seq + 2, q->seq + q->seq_len);
				q->state = GROUND;
			} else {
				q->state = OSC_ESC;
			}
			continue;
		}
		if (q->seq_len == TERMQUERY_SEQ_MAX) {
			/* too long for an answer: keys */
			memcpy(out + o, q->seq, q->seq_len);
			o += q->seq_len;
			q->state = GROUND;
			i--;
			continue;
		}
		q->seq[q->seq_len++] = b;
		if (q->state == CSI && b >= 0x40 && b <= 0x7e) {
			o += csi_done(q, out + o);
			q->state = GROUND;
		}
	}
	return o;
}

bool termquery_finished(struct termquery *q, uint64_t now, uint8_t *out, size_t *n)
{
	*n = 0;
	if (!q->active || now < q->deadline)
		return false;
	q->active = false;
	if (q->state != GROUND) {
		memcpy(out, q->seq, q->seq_len);
		*n = q->seq_len;
		if (q->state == OSC_ESC)
			out[(*n)++] = 0x1b;
		q->state = GROUND;
	}
	return true;
}

size_t termquery_take_changes(uint8_t *buf, size_t n, bool *changed)
{
	static const char report[] = "\033[?997;";
	const size_t k = sizeof report - 1;
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i + k;
		if (n - i > k && memcmp(buf + i, report, k) == 0) {
			while (j < n && buf[j] >= '0' && buf[j] <= '9' && j - i < k + 3)
				j++;
			if (j < n && j > i + k && buf[j] == 'n') {
				*changed = true;
				i = j + 1;
				continue;
			}
		}
		buf[o++] = buf[i++];
	}
	return o;
}

int termquery_wait_ms(const struct termquery *q, uint64_t now)
{
	if (!q->active)
		return -1;
	return q->deadline > now ? (int)(q->deadline - now) : 0;
}
