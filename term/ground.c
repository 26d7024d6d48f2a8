/*
 * The ground loop: term_write, and the only place that chooses between
 * the fast lane (the ground state's common bytes read here, with the
 * scanners of scan.h) and the parser's tables (parser.c) for the rest.
 * The fast lane's shortcuts are twins of the tables' path, named where
 * they are; tests/term_chunks_test.c feeds streams both ways (whole, and
 * a byte at a time, which sends every sequence through the tables) and
 * compares.
 */
#include "emu.h"
#include "flood.h"
#include "pen.h"
#include "scan.h"
#include "screen.h"

#include <string.h>

/* A control sequence at s, whose "ESC [" is checked and whose next byte
 * is in the buffer, read and applied; returns the byte after it, or NULL
 * when the tables must read it. Every sequence is dispatched by emu_csi,
 * but for three shortcuts, each a twin of an emu_csi case that calls the
 * same screen or pen function: SGR 0 (pen_apply of the table's entry for
 * 0), EL 0 (screen_erase_line) and CUP with plain numbers
 * (screen_move_abs); other SGRs of ';'-separated numbers are read by
 * pen_sgr_bytes, the twin of pen_sgr. */
static inline const uint8_t *ground_csi(struct term *t, const uint8_t *s,
                                        const uint8_t *end)
{
	const uint8_t *p = s + 2, *fin, *after;
	struct term_seq q;

	if (*p == 'm' || (end - p > 1 && memcmp(p, "0m", 2) == 0)) {
		/* SGR 0 as "ESC [ m" or "ESC [ 0 m": the commonest sequence
		 * of all (ls, grep and git end every colour so). Both bytes
		 * of "0m" in one compare: "0;31m" starts alike, and a branch
		 * on the '0' alone mispredicts on colour output. */
		pen_apply(&t->pen, pen_sgr_op(0));
		t->last_char = 0;
		return p + (*p == 'm' ? 1 : 2);
	}
	if (*p >= 0x40 && *p <= 0x7e) {
		/* No parameters (ESC [ K, ESC [ H, ...): nothing to scan. */
		if (*p == 'K') {
			/* EL 0, which ends many a line of full-screen
			 * programs (top, less) and of coloured output */
			t->last_char = 0;
			screen_erase_line(t, 0);
			return p + 1;
		}
		q.final = *p;
		q.marker = q.ninter = q.nparam = 0;
		q.sub = 0;
		after = p + 1;
	} else {
		fin = term_csi_final(p, end);
		if (fin != NULL && *fin == 'm' && pen_sgr_bytes(t, p, fin, end)) {
			/* SGR, the most frequent by far */
			t->last_char = 0;
			return fin + 1;
		}
		int32_t row, col = -1;
		const uint8_t *r;
		if (fin != NULL && *fin == 'H' && (r = term_csi_number(p, fin, &row)) != NULL &&
		    (r == fin || ((r = term_csi_number(r + 1, fin, &col)) != NULL && r == fin))) {
			/* CUP with one or two plain numbers, the most
			 * frequent after SGR */
			t->last_char = 0;
			screen_move_abs(t, (col > 0 ? col : 1) - 1, (row > 0 ? row : 1) - 1);
			return fin + 1;
		}
		after = fin != NULL ? term_csi_params(&q, p, fin) :
		                      term_csi_scan_slow(&q, p, end);
		if (after == NULL)
			return NULL;
	}
	emu_csi(t, &q);
	return after;
}

/* The ground state, read here rather than by the parser's tables (see
 * parser.h): printable ASCII runs, C0 controls and whole control
 * sequences go straight to the emulator, until a byte needs the tables.
 * Returns where that byte is, or end. */
static const uint8_t *ground(struct term *t, const uint8_t *s, const uint8_t *end)
{
	while (s < end) {
		uint8_t c = *s;
		if (c >= 0x20 && c < 0x7f) {
			size_t n = term_ascii_run(s, end);
			screen_print_ascii(t, s, n);
			s += n;
		} else if (c == 0x1b) {
			const uint8_t *after;
			if (end - s < 3 || s[1] != '[' || (after = ground_csi(t, s, end)) == NULL)
				break;
			s = after;
		} else if (c == '\r') {
			/* CR, and LF below: every line of output ends so */
			t->last_char = 0;
			screen_carriage_return(t->f);
			s++;
		} else if (c == '\n') {
			t->last_char = 0;
			screen_line_feed(t);
			s++;
			if (flood_ready(t, s, end))
				s = flood_lines(t, s, end);
		} else if (c < 0x20) {
			emu_execute(t, c);
			s++;
		} else {
			break;
		}
	}
	return s;
}

void term_write(struct term *t, const void *buf, size_t len)
{
	if (len == 0)
		return; /* buf may be NULL (an empty render) */
	const uint8_t *s = buf, *end = s + len;

	while (s < end) {
		if (term_parser_ground(&t->parser)) {
			s = ground(t, s, end);
			if (s == end)
				break;
		}
		s = term_parser_step(&t->parser, s, end);
	}
}
