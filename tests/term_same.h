/*
 * For tests of term/: whether two emulators are equal in everything a
 * user or an application could tell apart: the frame, the replies, and
 * the scrollback (its counts, and every line read back cell by cell, as
 * wide as the frame).
 */
#ifndef MOSHI_TEST_TERM_SAME_H
#define MOSHI_TEST_TERM_SAME_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../term/term.h"

static bool terms_same(struct term *a, struct term *b, char *why, size_t whylen)
{
	size_t na, nb;
	const uint8_t *ra = term_replies(a, &na), *rb = term_replies(b, &nb);
	int cols = term_frame_cols(term_frame(a));

	if (!term_frame_equal(term_frame(a), term_frame(b), why, whylen))
		return false;
	if (na != nb || (na > 0 && memcmp(ra, rb, na) != 0)) {
		snprintf(why, whylen, "replies differ (%zu and %zu bytes)", na, nb);
		return false;
	}
	if (term_scrollback_total(a) != term_scrollback_total(b) ||
	    term_scrollback_count(a) != term_scrollback_count(b)) {
		snprintf(why, whylen, "scrollback counts differ");
		return false;
	}
	for (int i = 0; i < term_scrollback_count(a); i++) {
		static struct term_cell ca[TERM_MAX_COLS], cb[TERM_MAX_COLS];
		int la = term_scrollback_line(a, i, ca, cols);
		int lb = term_scrollback_line(b, i, cb, cols);
		if (la != lb) {
			snprintf(why, whylen, "scrollback line %d stores %d and %d cells",
			         i, la, lb);
			return false;
		}
		for (int c = 0; c < cols; c++) {
			const struct term_cell *x = &ca[c], *y = &cb[c];
			if (x->ch != y->ch || x->fg != y->fg || x->bg != y->bg ||
			    x->attr != y->attr || x->link != y->link) {
				snprintf(why, whylen, "scrollback line %d, column %d: "
				         "U+%04X fg %x bg %x attr %x against "
				         "U+%04X fg %x bg %x attr %x", i, c,
				         (unsigned)x->ch, x->fg, x->bg, x->attr,
				         (unsigned)y->ch, y->fg, y->bg, y->attr);
				return false;
			}
		}
	}
	return true;
}

#endif
