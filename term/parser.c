/*
 * The VT parser: a table-driven state machine after Paul Williams' DEC/ANSI
 * parser (vt100.net/emu/dec_ansi_parser), for a UTF-8 terminal.
 *
 * Each state has a const table of 256 entries; an entry packs the action
 * for the byte (low nibble) and the next state (high nibble, or STAY).
 * Entry and exit actions (clear on entering ESCAPE, CSI_ENTRY and
 * DCS_ENTRY; start and end of an OSC string) are run by transition().
 *
 * Deviations from Williams' machine, all as xterm behaves in UTF-8 mode:
 *  - Bytes 0x80..0xFF are UTF-8, decoded here in the ground state (no
 *    locale, no mbrtowc). 8-bit C1 controls are therefore not recognised;
 *    invalid, overlong, surrogate and > U+10FFFF sequences become U+FFFD.
 *    Inside OSC and DCS strings they are string bytes; in escape and
 *    control sequences they are ignored.
 *  - ':' in CSI parameters separates sub-parameters (ITU T.416, used by
 *    SGR 38/48/58:...) instead of sending the sequence to CSI_IGNORE.
 *  - BEL ends an OSC string, like ST; CAN and SUB abort one (it is not
 *    dispatched).
 *  - DEL (0x7F) is ignored in the ground state rather than printed.
 *  - DCS strings are consumed and dropped (moshi answers no DCS request);
 *    SOS, PM and APC strings likewise.
 *  - The ground state's common bytes do not go through the tables: the
 *    emulator reads printable ASCII, C0 controls and control sequences
 *    that lie whole in one buffer itself, with term_ascii_run,
 *    term_csi_final and term_csi_params (scan.h), which give the
 *    events the tables would. The tables take the rest
 *    (term_parser_step).
 *
 * Bounds (every accumulator has one, and nothing is half-applied):
 *  - TERM_MAX_PARAMS (32) numbers and sub-numbers; further ones are
 *    dropped, the sequence is still dispatched with the first 32.
 *  - numbers saturate at TERM_PARAM_MAX (65535).
 *  - TERM_MAX_INTERMEDIATES (2) intermediate bytes; a sequence with more
 *    is discarded whole.
 *  - OSC strings up to TERM_OSC_MAX (64 KiB); a longer one is discarded
 *    whole. The buffer is allocated on the first OSC and kept.
 */
#include "scan.h"

#include <stdlib.h>
#include <string.h>

enum state {
	S_GROUND = TERM_PARSER_GROUND,
	S_ESCAPE,
	S_ESCAPE_INTERMEDIATE,
	S_CSI_ENTRY,
	S_CSI_PARAM,
	S_CSI_INTERMEDIATE,
	S_CSI_IGNORE,
	S_DCS_ENTRY,
	S_DCS_PARAM,
	S_DCS_INTERMEDIATE,
	S_DCS_PASSTHROUGH,
	S_DCS_IGNORE,
	S_OSC_STRING,
	S_SOS_PM_APC_STRING,
	S_COUNT,
	STAY = 15,
};

enum action {
	A_NONE,      /* ignore */
	A_PRINT,
	A_EXECUTE,
	A_COLLECT,   /* intermediate byte */
	A_MARKER,    /* private marker: first byte '<' '=' '>' '?' of a CSI */
	A_PARAM,
	A_ESC_DISPATCH,
	A_CSI_DISPATCH,
	A_OSC_PUT,
	A_UTF8,      /* a byte >= 0x80 in the ground state */
};

#define T(action, next) ((uint8_t)((action) | ((next) << 4)))

/* Transitions valid from every state (Williams' "anywhere"): CAN and SUB
 * cancel a sequence, ESC starts a new one. */
#define ANYWHERE \
	[0x18] = T(A_EXECUTE, S_GROUND), [0x1a] = T(A_EXECUTE, S_GROUND), \
	[0x1b] = T(A_NONE, S_ESCAPE)
/* C0 controls other than CAN, SUB and ESC. */
#define C0(action) \
	[0x00 ... 0x17] = T(action, STAY), [0x19] = T(action, STAY), \
	[0x1c ... 0x1f] = T(action, STAY)
#define HIGH(action, next) [0x80 ... 0xff] = T(action, next)

static const uint8_t table[S_COUNT][256] = {
	[S_GROUND] = {
		ANYWHERE, C0(A_EXECUTE),
		[0x20 ... 0x7e] = T(A_PRINT, STAY),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_UTF8, STAY),
	},
	[S_ESCAPE] = {
		ANYWHERE, C0(A_EXECUTE),
		[0x20 ... 0x2f] = T(A_COLLECT, S_ESCAPE_INTERMEDIATE),
		[0x30 ... 0x4f] = T(A_ESC_DISPATCH, S_GROUND),
		[0x50] = T(A_NONE, S_DCS_ENTRY),
		[0x51 ... 0x57] = T(A_ESC_DISPATCH, S_GROUND),
		[0x58] = T(A_NONE, S_SOS_PM_APC_STRING),
		[0x59 ... 0x5a] = T(A_ESC_DISPATCH, S_GROUND),
		[0x5b] = T(A_NONE, S_CSI_ENTRY),
		[0x5c] = T(A_ESC_DISPATCH, S_GROUND),
		[0x5d] = T(A_NONE, S_OSC_STRING),
		[0x5e ... 0x5f] = T(A_NONE, S_SOS_PM_APC_STRING),
		[0x60 ... 0x7e] = T(A_ESC_DISPATCH, S_GROUND),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_ESCAPE_INTERMEDIATE] = {
		ANYWHERE, C0(A_EXECUTE),
		[0x20 ... 0x2f] = T(A_COLLECT, STAY),
		[0x30 ... 0x7e] = T(A_ESC_DISPATCH, S_GROUND),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_CSI_ENTRY] = {
		ANYWHERE, C0(A_EXECUTE),
		[0x20 ... 0x2f] = T(A_COLLECT, S_CSI_INTERMEDIATE),
		[0x30 ... 0x3b] = T(A_PARAM, S_CSI_PARAM),
		[0x3c ... 0x3f] = T(A_MARKER, S_CSI_PARAM),
		[0x40 ... 0x7e] = T(A_CSI_DISPATCH, S_GROUND),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_CSI_PARAM] = {
		ANYWHERE, C0(A_EXECUTE),
		[0x20 ... 0x2f] = T(A_COLLECT, S_CSI_INTERMEDIATE),
		[0x30 ... 0x3b] = T(A_PARAM, STAY),
		[0x3c ... 0x3f] = T(A_NONE, S_CSI_IGNORE),
		[0x40 ... 0x7e] = T(A_CSI_DISPATCH, S_GROUND),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_CSI_INTERMEDIATE] = {
		ANYWHERE, C0(A_EXECUTE),
		[0x20 ... 0x2f] = T(A_COLLECT, STAY),
		[0x30 ... 0x3f] = T(A_NONE, S_CSI_IGNORE),
		[0x40 ... 0x7e] = T(A_CSI_DISPATCH, S_GROUND),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_CSI_IGNORE] = {
		ANYWHERE, C0(A_EXECUTE),
		[0x20 ... 0x3f] = T(A_NONE, STAY),
		[0x40 ... 0x7e] = T(A_NONE, S_GROUND),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_DCS_ENTRY] = {
		ANYWHERE, C0(A_NONE),
		[0x20 ... 0x2f] = T(A_NONE, S_DCS_INTERMEDIATE),
		[0x30 ... 0x3f] = T(A_NONE, S_DCS_PARAM),
		[0x40 ... 0x7e] = T(A_NONE, S_DCS_PASSTHROUGH),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_DCS_PARAM] = {
		ANYWHERE, C0(A_NONE),
		[0x20 ... 0x2f] = T(A_NONE, S_DCS_INTERMEDIATE),
		[0x30 ... 0x3f] = T(A_NONE, STAY),
		[0x40 ... 0x7e] = T(A_NONE, S_DCS_PASSTHROUGH),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_DCS_INTERMEDIATE] = {
		ANYWHERE, C0(A_NONE),
		[0x20 ... 0x2f] = T(A_NONE, STAY),
		[0x30 ... 0x3f] = T(A_NONE, S_DCS_IGNORE),
		[0x40 ... 0x7e] = T(A_NONE, S_DCS_PASSTHROUGH),
		[0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_DCS_PASSTHROUGH] = {
		ANYWHERE, C0(A_NONE),
		[0x20 ... 0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_DCS_IGNORE] = {
		ANYWHERE, C0(A_NONE),
		[0x20 ... 0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
	[S_OSC_STRING] = {
		ANYWHERE,
		[0x00 ... 0x06] = T(A_NONE, STAY),
		[0x07] = T(A_NONE, S_GROUND), /* BEL ends it (xterm) */
		[0x08 ... 0x17] = T(A_NONE, STAY),
		[0x19] = T(A_NONE, STAY),
		[0x1c ... 0x1f] = T(A_NONE, STAY),
		[0x20 ... 0x7f] = T(A_OSC_PUT, STAY),
		HIGH(A_OSC_PUT, STAY),
	},
	[S_SOS_PM_APC_STRING] = {
		ANYWHERE, C0(A_NONE),
		[0x20 ... 0x7f] = T(A_NONE, STAY),
		HIGH(A_NONE, STAY),
	},
};

void term_parser_init(struct term_parser *p, const struct term_parser_ops *ops,
                      void *ctx)
{
	memset(p, 0, sizeof *p);
	p->ops = ops;
	p->ctx = ctx;
	p->state = S_GROUND;
}

void term_parser_free(struct term_parser *p)
{
	free(p->osc);
	p->osc = NULL;
}

static void seq_clear(struct term_parser *p)
{
	p->seq.final = 0;
	p->seq.marker = 0;
	p->seq.ninter = 0;
	p->seq.nparam = 0;
	p->seq.sub = 0;
	p->discard = false;
}

static void osc_end(struct term_parser *p)
{
	if (!p->discard && p->osc != NULL)
		p->ops->osc(p->ctx, p->osc, p->osc_len);
	p->osc_len = 0;
}

static void transition(struct term_parser *p, uint8_t next)
{
	if (p->state == S_OSC_STRING)
		osc_end(p);
	p->state = next;
	switch (next) {
	case S_ESCAPE:
	case S_CSI_ENTRY:
	case S_DCS_ENTRY:
		seq_clear(p);
		break;
	case S_OSC_STRING:
		p->osc_len = 0;
		p->discard = false;
		if (p->osc == NULL) {
			p->osc = malloc(TERM_OSC_MAX);
			if (p->osc == NULL)
				p->discard = true;
		}
		break;
	}
}

static void collect(struct term_parser *p, uint8_t c)
{
	if (p->seq.ninter >= TERM_MAX_INTERMEDIATES) {
		p->discard = true;
		return;
	}
	p->seq.inter[p->seq.ninter++] = c;
}

/* A parameter byte: a digit, ';' (next parameter) or ':' (next
 * sub-parameter). Parameter slots are created lazily so that "CSI m" has
 * none and "CSI ;m" has two omitted ones. */
static void param(struct term_parser *p, uint8_t c)
{
	struct term_seq *s = &p->seq;

	if (s->nparam == 0) {
		s->param[0] = -1;
		s->nparam = 1;
	}
	if (c == ';' || c == ':') {
		if (s->nparam >= TERM_MAX_PARAMS) {
			/* Further parameters are dropped; remember that the
			 * last slot is full so digits do not land in it. */
			s->nparam = TERM_MAX_PARAMS + 1;
			return;
		}
		if (s->nparam > TERM_MAX_PARAMS)
			return;
		if (c == ':')
			s->sub |= 1u << s->nparam;
		s->param[s->nparam++] = -1;
		return;
	}
	if (s->nparam > TERM_MAX_PARAMS)
		return;
	int32_t *v = &s->param[s->nparam - 1];
	int32_t d = c - '0';
	*v = *v < 0 ? d : term_param_digit(*v, d);
}

void term_seq_read(struct term_seq *q, const uint8_t *s, const uint8_t *fin)
{
	struct term_parser p;

	p.seq = (struct term_seq){ 0 };
	for (; s < fin; s++)
		param(&p, *s);
	if (p.seq.nparam > TERM_MAX_PARAMS)
		p.seq.nparam = TERM_MAX_PARAMS;
	p.seq.final = *fin;
	*q = p.seq;
}

static void dispatch(struct term_parser *p, uint8_t action, uint8_t c)
{
	if (p->discard)
		return;
	if (p->seq.nparam > TERM_MAX_PARAMS)
		p->seq.nparam = TERM_MAX_PARAMS;
	p->seq.final = c;
	if (action == A_ESC_DISPATCH)
		p->ops->esc(p->ctx, &p->seq);
	else
		p->ops->csi(p->ctx, &p->seq);
}

/* UTF-8 in the ground state. A byte that cannot continue the sequence
 * under way ends it as U+FFFD and is then looked at afresh. */
static void utf8_byte(struct term_parser *p, uint8_t c)
{
	if (p->u_need > 0) {
		if ((c & 0xc0) == 0x80) {
			p->u_cp = (p->u_cp << 6) | (c & 0x3f);
			if (--p->u_need > 0)
				return;
			uint32_t cp = p->u_cp;
			if (cp < p->u_min || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				cp = 0xfffd;
			p->ops->print(p->ctx, cp);
			return;
		}
		p->u_need = 0;
		p->ops->print(p->ctx, 0xfffd);
		if (c < 0x80)
			return; /* the caller goes on with this byte */
	}
	if (c >= 0xc2 && c <= 0xdf) {
		p->u_cp = c & 0x1f;
		p->u_need = 1;
		p->u_min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		p->u_cp = c & 0x0f;
		p->u_need = 2;
		p->u_min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		p->u_cp = c & 0x07;
		p->u_need = 3;
		p->u_min = 0x10000;
	} else {
		/* A stray continuation byte, C0/C1 (overlong) or F5..FF. */
		p->ops->print(p->ctx, 0xfffd);
	}
}

const uint8_t *term_parser_step(struct term_parser *p, const uint8_t *buf,
                                 const uint8_t *end)
{
	while (buf < end) {
		uint8_t c = *buf;
		buf++;
		if (p->u_need > 0 && c < 0x80) {
			/* A truncated UTF-8 sequence before this byte. */
			utf8_byte(p, c);
		}

		/* CAN and SUB abort an OSC string; only BEL and ST end one. */
		if (p->state == S_OSC_STRING && (c == 0x18 || c == 0x1a))
			p->discard = true;

		uint8_t e = table[p->state][c];
		uint8_t action = e & 0x0f, next = e >> 4;

		switch (action) {
		case A_NONE:
			break;
		case A_PRINT:
			p->ops->print(p->ctx, c);
			break;
		case A_EXECUTE:
			p->ops->execute(p->ctx, c);
			break;
		case A_COLLECT:
			collect(p, c);
			break;
		case A_MARKER:
			p->seq.marker = c;
			break;
		case A_PARAM:
			param(p, c);
			break;
		case A_ESC_DISPATCH:
		case A_CSI_DISPATCH:
			dispatch(p, action, c);
			break;
		case A_OSC_PUT:
			if (p->discard)
				break;
			if (p->osc_len >= TERM_OSC_MAX) {
				p->discard = true;
				p->osc_len = 0;
				break;
			}
			p->osc[p->osc_len++] = c;
			break;
		case A_UTF8:
			utf8_byte(p, c);
			break;
		}
		if (next != STAY) {
			if (p->state == S_OSC_STRING)
				p->osc_bel = c == 0x07;
			transition(p, next);
		}
		if (term_parser_ground(p) && (buf == end || *buf < 0x80))
			break;
	}
	return buf;
}

const uint8_t *term_csi_scan_slow(struct term_seq *q, const uint8_t *s,
                                  const uint8_t *end)
{
	const uint8_t *fin = s, *p;
	uint8_t inter[TERM_MAX_INTERMEDIATES], ninter = 0;

	while (fin < end && *fin >= 0x30 && *fin <= 0x3f)
		fin++;
	for (p = fin; p < end && *p >= 0x20 && *p <= 0x2f; p++) {
		if (ninter == TERM_MAX_INTERMEDIATES)
			return NULL;
		inter[ninter++] = *p;
	}
	if (p == end || *p < 0x40 || *p > 0x7e)
		return NULL;
	/* *fin is an intermediate or the final byte: not a digit. */
	if (term_csi_params(q, s, fin) == NULL)
		return NULL;
	memcpy(q->inter, inter, ninter);
	q->ninter = ninter;
	q->final = *p;
	return p + 1;
}
