/*
 * The parser's interface (parser.c): bytes in, events out, through a
 * table-driven state machine. The emulator reads the ground state's
 * common bytes itself (ground.c, with the scanners of scan.h) and hands
 * the rest to term_parser_step.
 */
#ifndef MOSHI_TERM_PARSER_H
#define MOSHI_TERM_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERM_MAX_PARAMS 32     /* numbers and sub-numbers per sequence */
#define TERM_MAX_INTERMEDIATES 2
#define TERM_PARAM_MAX 65535   /* numbers saturate here */
#define TERM_OSC_MAX 65536     /* bytes; longer strings are dropped whole */

struct term_seq {
	uint8_t final;
	uint8_t marker;        /* private marker ('?', '>', '<', '='), or 0 */
	uint8_t ninter;
	uint8_t inter[TERM_MAX_INTERMEDIATES];
	uint8_t nparam;
	int32_t param[TERM_MAX_PARAMS]; /* -1: omitted */
	uint32_t sub;          /* bit i: param i followed a ':' */
};

struct term_parser_ops {
	void (*print)(void *ctx, uint32_t cp);
	void (*execute)(void *ctx, uint8_t c0);
	void (*esc)(void *ctx, const struct term_seq *seq);
	void (*csi)(void *ctx, const struct term_seq *seq);
	void (*osc)(void *ctx, const uint8_t *s, size_t n);
};

#define TERM_PARSER_GROUND 0   /* the state value of the ground state */

struct term_parser {
	const struct term_parser_ops *ops;
	void *ctx;
	uint8_t state;
	bool discard;          /* the sequence overflowed: drop it at dispatch */
	struct term_seq seq;
	/* UTF-8 decoder state for the ground state. */
	uint32_t u_cp;
	uint32_t u_min;
	uint8_t u_need;
	/* OSC string; osc_bel: it ended with BEL, not ST (an answer to it
	 * ends the same way, as xterm's do). */
	uint8_t *osc;
	size_t osc_len;
	bool osc_bel;
};

void term_parser_init(struct term_parser *p, const struct term_parser_ops *ops,
                      void *ctx);
void term_parser_free(struct term_parser *p);

/*
 * The parser is fed in two lanes (see term_write in ground.c). In the ground
 * state with no UTF-8 sequence under way, the caller reads the bytes
 * itself: runs of printable ASCII (term_ascii_run), C0 controls, and
 * control sequences that lie whole in the buffer (term_csi_final, then
 * term_csi_params), with the same events the tables give. Everything else
 * goes through the tables, term_parser_step, until the ground state is
 * back.
 */
static inline bool term_parser_ground(const struct term_parser *p)
{
	return p->state == TERM_PARSER_GROUND && p->u_need == 0;
}

/* Run bytes through the tables, at least one, until the parser is back in
 * the ground state with no UTF-8 sequence under way and the next byte is
 * ASCII. Returns where it stopped (end at the latest). */
const uint8_t *term_parser_step(struct term_parser *p, const uint8_t *buf,
                                const uint8_t *end);

/* The sequence "CSI [s, fin) *fin" with no marker and no intermediate
 * (the bytes in [s, fin) are digits, ':' and ';' only) read into q as
 * the tables read it: further parameters than fit are dropped. */
void term_seq_read(struct term_seq *q, const uint8_t *s, const uint8_t *fin);

/* Parameter i with a default for omitted or zero values, clamped to max. */
static inline int term_seq_param(const struct term_seq *s, int i, int def, int max)
{
	int v;

	if (i >= s->nparam || s->param[i] <= 0)
		v = def;
	else
		v = s->param[i];
	return v > max ? max : v;
}

#endif
