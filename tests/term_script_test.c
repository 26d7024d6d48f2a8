/*
 * Runs the emulator's script tests: the tests/term/NAME.test files (or the files given
 * as arguments). A script is a list of directives, one per line:
 *
 *   TEST name            start a test with a fresh 20x5 terminal
 *   SIZE cols rows       start over with a terminal of this size
 *   RESIZE cols rows     resize the terminal
 *   PUSH "bytes"         feed bytes; escapes: \e \a \b \t \n \r \\ \" \xHH
 *                        and \u{HEX} (UTF-8); PUSH may repeat
 *   REPEAT n "bytes"     feed bytes n times
 *   SCREEN               the rows that follow, each "|text", are the whole
 *                        screen (trailing blanks trimmed, missing rows blank)
 *   ROW r "text"         row r, trailing blanks trimmed
 *   CURSOR r c           cursor position (0-based)
 *   PENDING yes|no       deferred wrap
 *   CELL r c k=v ...     ch="x" fg=default|N|#rrggbb bg=... attr=a+b|none
 *                        wide=yes|no|cont link="uri"|none
 *                        ul=plain|single|double|curly|dotted|dashed|21
 *                        (the underline's style) ulcolour=default|N|
 *                        #rrggbb, with ";" after it for the ';' form
 *   REPLY "bytes"        replies so far (then cleared); NOREPLY: none;
 *                        REPLYLEN n: n bytes of replies (then cleared)
 *   MODES +name -name    names as in mode_names below
 *   TITLE "t" / ICON "t" / BELLS n / STYLE n / CLIPBOARD "sel;data"
 *   TITLELEN n           the title is n bytes long
 *   SCROLLBACK n         lines kept in the scrollback
 *   WRAPPED r yes|no     row r continues on the next (soft wrap)
 *   SYNC yes|no          inside a synchronized update (mode 2026)
 *   KEYMODES mok kitty   modifyOtherKeys level and kitty flags in force
 *   COLOUR which rrggbb  the user's terminal's colour (fg, bg or 0-255)
 *   KEYSUPPORT kitty|modify|both|none   what the user's terminal sends
 *
 * Each TEST prints one PASS or FAIL line (the first failed check, with its
 * file and line).
 */
#include "test.h"

#include <ctype.h>
#include <dirent.h>
#include <stdint.h>

#include "../term/internal.h"

static const struct {
	const char *name;
	uint32_t bit;
} mode_names[] = {
	{ "cursor_keys", TERM_MODE_CURSOR_KEYS },
	{ "keypad", TERM_MODE_KEYPAD },
	{ "reverse", TERM_MODE_REVERSE },
	{ "cursor_hidden", TERM_MODE_CURSOR_HIDDEN },
	{ "mouse_x10", TERM_MODE_MOUSE_X10 },
	{ "mouse_normal", TERM_MODE_MOUSE_NORMAL },
	{ "mouse_button", TERM_MODE_MOUSE_BUTTON },
	{ "mouse_any", TERM_MODE_MOUSE_ANY },
	{ "mouse_utf8", TERM_MODE_MOUSE_UTF8 },
	{ "mouse_sgr", TERM_MODE_MOUSE_SGR },
	{ "mouse_urxvt", TERM_MODE_MOUSE_URXVT },
	{ "focus", TERM_MODE_FOCUS },
	{ "bracketed_paste", TERM_MODE_BRACKETED_PASTE },
	{ "alt_screen", TERM_MODE_ALT_SCREEN },
};

static const struct {
	const char *name;
	uint16_t bit;
} attr_names[] = {
	{ "bold", TERM_ATTR_BOLD }, { "dim", TERM_ATTR_DIM },
	{ "italic", TERM_ATTR_ITALIC }, { "underline", TERM_ATTR_UNDERLINE },
	{ "blink", TERM_ATTR_BLINK }, { "inverse", TERM_ATTR_INVERSE },
	{ "invisible", TERM_ATTR_INVISIBLE }, { "strike", TERM_ATTR_STRIKE },
};

struct script {
	const char *file;
	int line;
	char name[128];
	struct term *t;
	bool active;
	int failures;
	char failure[600];
	int passed, failed;
};

static void sfail(struct script *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sfail(struct script *s, const char *fmt, ...)
{
	if (s->failures++ == 0) {
		va_list ap;
		int n = snprintf(s->failure, sizeof s->failure, "%s:%d: ",
		                 s->file, s->line);
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < sizeof s->failure)
			vsnprintf(s->failure + n, sizeof s->failure - (size_t)n,
			          fmt, ap);
		va_end(ap);
	}
}

static void finish(struct script *s)
{
	if (!s->active)
		return;
	if (s->failures) {
		printf("FAIL term-script/%s: %s\n", s->name, s->failure);
		s->failed++;
	} else {
		printf("PASS term-script/%s\n", s->name);
		s->passed++;
	}
	term_free(s->t);
	s->t = NULL;
	s->active = false;
}

/* Parse a quoted string with escapes at *p into out; returns its length
 * or -1. Advances *p past the closing quote. */
static long parse_string(const char **p, char *out, size_t cap)
{
	const char *q = *p;
	size_t n = 0;

	while (isspace((unsigned char)*q))
		q++;
	if (*q != '"')
		return -1;
	q++;
	while (*q && *q != '"') {
		char c = *q++;
		char tmp[8];
		size_t k = 1;
		tmp[0] = c;
		if (c == '\\') {
			c = *q++;
			switch (c) {
			case 'e': tmp[0] = 0x1b; break;
			case 'a': tmp[0] = 0x07; break;
			case 'b': tmp[0] = 0x08; break;
			case 't': tmp[0] = 0x09; break;
			case 'n': tmp[0] = 0x0a; break;
			case 'r': tmp[0] = 0x0d; break;
			case '\\': tmp[0] = '\\'; break;
			case '"': tmp[0] = '"'; break;
			case 'x': {
				unsigned v;
				if (sscanf(q, "%2x", &v) != 1)
					return -1;
				tmp[0] = (char)v;
				q += 2;
				break;
			}
			case 'u': {
				unsigned v;
				int used = 0;
				if (sscanf(q, "{%x}%n", &v, &used) != 1 || used == 0)
					return -1;
				q += used;
				k = term_utf8_encode(v, tmp);
				break;
			}
			default:
				return -1;
			}
		}
		if (n + k > cap)
			return -1;
		memcpy(out + n, tmp, k);
		n += k;
	}
	if (*q != '"')
		return -1;
	*p = q + 1;
	return (long)n;
}

/* A row as text: cell characters, wide continuations skipped, trailing
 * blanks trimmed. */
static void row_text(const struct term_frame *f, int r, char *out, size_t cap)
{
	size_t n = 0, keep = 0;

	for (int x = 0; x < term_frame_cols(f); x++) {
		char cell[32];
		size_t k = term_frame_cell_utf8(f, r, x, cell, sizeof cell);
		if (n + k + 1 > cap)
			break;
		memcpy(out + n, cell, k);
		n += k;
		if (!(k == 1 && cell[0] == ' '))
			keep = n;
	}
	out[keep] = '\0';
}

static bool parse_color(const char *v, uint32_t *c)
{
	unsigned r, g, b, i;

	if (strcmp(v, "default") == 0) {
		*c = TERM_COLOR_DEFAULT;
		return true;
	}
	if (v[0] == '#' && sscanf(v + 1, "%2x%2x%2x", &r, &g, &b) == 3) {
		*c = TERM_COLOR_RGB(r, g, b);
		return true;
	}
	/* "5;N": palette entry N as set by 38;5;N (kept apart below 16). */
	if (strncmp(v, "5;", 2) == 0 && sscanf(v + 2, "%u", &i) == 1 && i < 256) {
		*c = TERM_COLOR_PALETTE(i);
		return true;
	}
	if (sscanf(v, "%u", &i) == 1 && i < 256) {
		*c = TERM_COLOR_INDEXED(i);
		return true;
	}
	return false;
}

static void check_cell(struct script *s, const char *args)
{
	const struct term_frame *f = term_frame(s->t);
	int r, c, used = 0;

	if (sscanf(args, "%d %d%n", &r, &c, &used) != 2) {
		sfail(s, "CELL needs a row and a column");
		return;
	}
	struct term_cell cell = term_frame_cell(f, r, c);
	const char *p = args + used;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		char key[16];
		int kl = 0;
		while (*p && *p != '=' && kl < 15)
			key[kl++] = *p++;
		key[kl] = '\0';
		if (*p++ != '=') {
			sfail(s, "CELL: bad argument");
			return;
		}
		char val[256];
		if (*p == '"') {
			long n = parse_string(&p, val, sizeof val - 1);
			if (n < 0) {
				sfail(s, "CELL: bad string");
				return;
			}
			val[n] = '\0';
		} else {
			int vl = 0;
			while (*p && !isspace((unsigned char)*p) && vl < 255)
				val[vl++] = *p++;
			val[vl] = '\0';
		}
		if (strcmp(key, "ch") == 0) {
			char got[32];
			term_frame_cell_utf8(f, r, c, got, sizeof got);
			if (strcmp(got, val) != 0)
				sfail(s, "cell %d,%d is \"%s\", expected \"%s\"", r, c, got, val);
		} else if (strcmp(key, "fg") == 0 || strcmp(key, "bg") == 0) {
			uint32_t want;
			uint32_t got = key[0] == 'f' ? cell.fg : cell.bg;
			if (!parse_color(val, &want))
				sfail(s, "CELL: bad colour %s", val);
			else if (got != want)
				sfail(s, "cell %d,%d %s is %08x, expected %08x (%s)",
				      r, c, key, got, want, val);
		} else if (strcmp(key, "attr") == 0) {
			uint16_t want = 0;
			char *save = NULL;
			if (strcmp(val, "none") != 0) {
				for (char *w = strtok_r(val, "+", &save); w;
				     w = strtok_r(NULL, "+", &save)) {
					size_t i;
					for (i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
						if (strcmp(w, attr_names[i].name) == 0)
							break;
					if (i == sizeof attr_names / sizeof attr_names[0]) {
						sfail(s, "CELL: unknown attribute %s", w);
						return;
					}
					want |= attr_names[i].bit;
				}
			}
			uint16_t got = cell.attr & TERM_ATTR_SGR_MASK & ~TERM_ATTR_UL_STYLE;
			if (got != want)
				sfail(s, "cell %d,%d attr is %02x, expected %02x",
				      r, c, got, want);
		} else if (strcmp(key, "ul") == 0) {
			static const char *const styles[8] = {
				"plain", "single", "double", "curly", "dotted",
				"dashed", "21", "?" };
			const char *got = cell.attr & TERM_ATTR_UNDERLINE ?
				styles[TERM_ATTR_UL_OF(cell.attr)] : "none";
			if (strcmp(got, val) != 0)
				sfail(s, "cell %d,%d underline is %s, expected %s",
				      r, c, got, val);
		} else if (strcmp(key, "ulcolour") == 0) {
			uint32_t want, got = term_frame_cell_ul_colour(f, r, c);
			size_t vl = strlen(val);
			bool semi = vl > 0 && val[vl - 1] == ';';
			if (semi)
				val[vl - 1] = '\0';
			if (!parse_color(val, &want))
				sfail(s, "CELL: bad colour %s", val);
			else if (got != (want | (semi ? TERM_COLOR_SEMICOLON : 0)))
				sfail(s, "cell %d,%d ulcolour is %08x, expected %08x",
				      r, c, got, want);
		} else if (strcmp(key, "wide") == 0) {
			const char *got = cell.attr & TERM_ATTR_WIDE ? "yes" :
			                  cell.attr & TERM_ATTR_WIDE_CONT ? "cont" : "no";
			if (strcmp(got, val) != 0)
				sfail(s, "cell %d,%d wide is %s, expected %s", r, c, got, val);
		} else if (strcmp(key, "link") == 0) {
			const char *got = term_frame_link(f, cell.link);
			if (got == NULL)
				got = "none";
			if (strcmp(got, val) != 0)
				sfail(s, "cell %d,%d link is %s, expected %s", r, c, got, val);
		} else {
			sfail(s, "CELL: unknown key %s", key);
		}
	}
}

static void check_modes(struct script *s, const char *args)
{
	uint32_t modes = term_frame_modes(term_frame(s->t));
	char buf[512];
	char *save = NULL;

	snprintf(buf, sizeof buf, "%s", args);
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		bool want = w[0] == '+';
		size_t i;
		if (w[0] != '+' && w[0] != '-') {
			sfail(s, "MODES: %s needs + or -", w);
			return;
		}
		for (i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
			if (strcmp(w + 1, mode_names[i].name) == 0)
				break;
		if (i == sizeof mode_names / sizeof mode_names[0]) {
			sfail(s, "MODES: unknown mode %s", w + 1);
			return;
		}
		if (!!(modes & mode_names[i].bit) != want)
			sfail(s, "mode %s is %s", w + 1, want ? "off" : "on");
	}
}

static void new_term(struct script *s, int cols, int rows)
{
	term_free(s->t);
	s->t = term_new(cols, rows);
	if (s->t == NULL)
		sfail(s, "term_new(%d, %d) failed", cols, rows);
}

static void run_file(struct script *s, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[8192];
	char screen[TERM_MAX_ROWS][1024];
	int screen_rows = -1;

	if (fp == NULL) {
		printf("FAIL term-script/%s: cannot open\n", path);
		s->failed++;
		return;
	}
	s->file = path;
	s->line = 0;
	for (;;) {
		bool eof = fgets(line, sizeof line, fp) == NULL;
		if (!eof)
			s->line++;
		char *p = line;
		if (!eof) {
			line[strcspn(line, "\n")] = '\0';
			while (isspace((unsigned char)*p))
				p++;
		}
		/* A SCREEN block ends at the first line that is not "|...". */
		if (screen_rows >= 0 && (eof || *p != '|')) {
			const struct term_frame *f = term_frame(s->t);
			for (int r = 0; s->t && r < term_frame_rows(f); r++) {
				char got[8192];
				row_text(f, r, got, sizeof got);
				const char *want = r < screen_rows ? screen[r] : "";
				if (strcmp(got, want) != 0) {
					sfail(s, "SCREEN row %d is \"%s\", expected \"%s\"",
					      r, got, want);
					break;
				}
			}
			screen_rows = -1;
		}
		if (eof)
			break;
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '|') {
			if (screen_rows < 0) {
				sfail(s, "| outside SCREEN");
				continue;
			}
			if (screen_rows < TERM_MAX_ROWS) {
				/* trim trailing blanks, as row_text does */
				size_t n = strlen(p + 1);
				while (n > 0 && p[n] == ' ')
					n--;
				snprintf(screen[screen_rows], sizeof screen[0], "%.*s",
				         (int)n, p + 1);
				screen_rows++;
			}
			continue;
		}
		char word[32];
		int used = 0;
		if (sscanf(p, "%31s%n", word, &used) != 1)
			continue;
		const char *args = p + used;
		while (isspace((unsigned char)*args))
			args++;

		if (strcmp(word, "TEST") == 0) {
			finish(s);
			snprintf(s->name, sizeof s->name, "%s", args);
			s->active = true;
			s->failures = 0;
			new_term(s, 20, 5);
			continue;
		}
		if (!s->active || s->t == NULL) {
			if (s->active)
				continue; /* the terminal could not be made */
			printf("FAIL term-script/%s: %s:%d: directive before TEST\n",
			       path, path, s->line);
			s->failed++;
			continue;
		}
		const struct term_frame *f = term_frame(s->t);
		int a, b;
		if (strcmp(word, "SIZE") == 0 && sscanf(args, "%d %d", &a, &b) == 2) {
			new_term(s, a, b);
		} else if (strcmp(word, "RESIZE") == 0 && sscanf(args, "%d %d", &a, &b) == 2) {
			int rc = term_resize(s->t, a, b);
			if (rc != TERM_OK)
				sfail(s, "resize %dx%d: %d", a, b, rc);
		} else if (strcmp(word, "PUSH") == 0 || strcmp(word, "REPEAT") == 0) {
			static char buf[1 << 16];
			int times = 1;
			const char *q = args;
			if (word[0] == 'R') {
				if (sscanf(args, "%d%n", &times, &used) != 1) {
					sfail(s, "REPEAT needs a count");
					continue;
				}
				q = args + used;
			}
			long n = parse_string(&q, buf, sizeof buf);
			if (n < 0) {
				sfail(s, "bad string");
				continue;
			}
			for (int i = 0; i < times; i++)
				term_write(s->t, buf, (size_t)n);
		} else if (strcmp(word, "SCREEN") == 0) {
			screen_rows = 0;
		} else if (strcmp(word, "ROW") == 0) {
			char want[8192], got[8192];
			const char *q;
			if (sscanf(args, "%d%n", &a, &used) != 1) {
				sfail(s, "ROW needs a number");
				continue;
			}
			q = args + used;
			long n = parse_string(&q, want, sizeof want - 1);
			if (n < 0) {
				sfail(s, "bad string");
				continue;
			}
			want[n] = '\0';
			row_text(f, a, got, sizeof got);
			if (strcmp(got, want) != 0)
				sfail(s, "row %d is \"%s\", expected \"%s\"", a, got, want);
		} else if (strcmp(word, "CURSOR") == 0 && sscanf(args, "%d %d", &a, &b) == 2) {
			int r, c;
			term_frame_cursor(f, &r, &c);
			if (r != a || c != b)
				sfail(s, "cursor at %d,%d, expected %d,%d", r, c, a, b);
		} else if (strcmp(word, "PENDING") == 0) {
			bool want = strncmp(args, "yes", 3) == 0;
			if (term_frame_wrap_pending(f) != want)
				sfail(s, "wrap pending is %d", term_frame_wrap_pending(f));
		} else if (strcmp(word, "WRAPPED") == 0) {
			char yn[8] = "";
			if (sscanf(args, "%d %7s", &a, yn) != 2 || a < 0 || a >= f->rows) {
				sfail(s, "WRAPPED needs a row and yes/no");
				continue;
			}
			bool want = strcmp(yn, "yes") == 0;
			if (f->row[a]->wrapped != want)
				sfail(s, "row %d wrapped is %d", a, f->row[a]->wrapped);
		} else if (strcmp(word, "CELL") == 0) {
			check_cell(s, args);
		} else if (strcmp(word, "REPLY") == 0 || strcmp(word, "NOREPLY") == 0) {
			char want[4096];
			long n = 0;
			size_t len;
			const uint8_t *got = term_replies(s->t, &len);
			if (word[0] == 'R') {
				const char *q = args;
				n = parse_string(&q, want, sizeof want);
				if (n < 0) {
					sfail(s, "bad string");
					continue;
				}
			}
			if (len != (size_t)n || memcmp(got, want, len) != 0)
				sfail(s, "replies are \"%.*s\" (%zu bytes), expected %ld bytes",
				      (int)len, (const char *)got, len, n);
			term_replies_clear(s->t);
		} else if (strcmp(word, "REPLYLEN") == 0 && sscanf(args, "%d", &a) == 1) {
			size_t len;
			term_replies(s->t, &len);
			if (len != (size_t)a)
				sfail(s, "%zu bytes of replies, expected %d", len, a);
			term_replies_clear(s->t);
		} else if (strcmp(word, "MODES") == 0) {
			check_modes(s, args);
		} else if (strcmp(word, "TITLE") == 0 || strcmp(word, "ICON") == 0 ||
		           strcmp(word, "CLIPBOARD") == 0) {
			char want[4096];
			const char *q = args;
			long n = parse_string(&q, want, sizeof want - 1);
			if (n < 0) {
				sfail(s, "bad string");
				continue;
			}
			want[n] = '\0';
			const char *got = word[0] == 'T' ? term_frame_title(f) :
			                  word[0] == 'I' ? term_frame_icon(f) :
			                  term_frame_clipboard(f, NULL);
			if (got == NULL)
				got = "";
			if (strcmp(got, want) != 0)
				sfail(s, "%s is \"%s\", expected \"%s\"", word, got, want);
		} else if (strcmp(word, "TITLELEN") == 0 && sscanf(args, "%d", &a) == 1) {
			if ((int)strlen(term_frame_title(f)) != a)
				sfail(s, "title is %zu bytes, expected %d",
				      strlen(term_frame_title(f)), a);
		} else if (strcmp(word, "BELLS") == 0 && sscanf(args, "%d", &a) == 1) {
			if ((int)term_frame_bells(f) != a)
				sfail(s, "bells %u, expected %d", term_frame_bells(f), a);
		} else if (strcmp(word, "STYLE") == 0 && sscanf(args, "%d", &a) == 1) {
			if (term_frame_cursor_style(f) != a)
				sfail(s, "cursor style %d, expected %d",
				      term_frame_cursor_style(f), a);
		} else if (strcmp(word, "SYNC") == 0) {
			bool want = strncmp(args, "yes", 3) == 0;
			if (term_synchronized(s->t) != want)
				sfail(s, "synchronized is %d", term_synchronized(s->t));
		} else if (strcmp(word, "KEYMODES") == 0 && sscanf(args, "%d %d", &a, &b) == 2) {
			uint32_t m = term_frame_modes(f);
			int mok = (int)((m & TERM_MODE_MOK) >> TERM_MODE_MOK_SHIFT);
			int kitty = (int)((m & TERM_MODE_KITTY) >> TERM_MODE_KITTY_SHIFT);
			if (mok != a || kitty != b)
				sfail(s, "key modes %d %d, expected %d %d", mok, kitty, a, b);
		} else if (strcmp(word, "COLOUR") == 0) {
			char which[16];
			unsigned rgb;
			if (sscanf(args, "%15s %x", which, &rgb) != 2) {
				sfail(s, "COLOUR needs which and rrggbb");
				continue;
			}
			term_set_colour(s->t, strcmp(which, "fg") == 0 ? TERM_COLOUR_FG :
			                strcmp(which, "bg") == 0 ? TERM_COLOUR_BG :
			                atoi(which), rgb);
		} else if (strcmp(word, "KEYSUPPORT") == 0) {
			term_set_key_support(s->t, strncmp(args, "kitty", 5) == 0 ? TERM_KEYS_KITTY :
			                     strncmp(args, "modify", 6) == 0 ? TERM_KEYS_MODIFY :
			                     strncmp(args, "both", 4) == 0 ?
			                     TERM_KEYS_KITTY | TERM_KEYS_MODIFY : 0);
		} else if (strcmp(word, "SCROLLBACK") == 0 && sscanf(args, "%d", &a) == 1) {
			if (term_scrollback_count(s->t) != a)
				sfail(s, "scrollback holds %d lines, expected %d",
				      term_scrollback_count(s->t), a);
		} else {
			sfail(s, "unknown or malformed directive: %s", p);
		}
	}
	finish(s);
	fclose(fp);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	struct script s;
	char *files[256];
	int nfiles = 0;

	memset(&s, 0, sizeof s);
	if (argc > 1) {
		for (int i = 1; i < argc && nfiles < 256; i++)
			files[nfiles++] = strdup(argv[i]);
	} else {
		const char *dir = getenv("TERM_TESTS");
		if (dir == NULL)
			dir = "tests/term";
		DIR *d = opendir(dir);
		if (d == NULL) {
			printf("FAIL term-script/setup: cannot open %s\n", dir);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL && nfiles < 256) {
			size_t n = strlen(e->d_name);
			if (n > 5 && strcmp(e->d_name + n - 5, ".test") == 0) {
				char path[4096];
				snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
				files[nfiles++] = strdup(path);
			}
		}
		closedir(d);
		qsort(files, (size_t)nfiles, sizeof *files, by_name);
	}
	for (int i = 0; i < nfiles; i++) {
		run_file(&s, files[i]);
		free(files[i]);
	}
	return s.failed ? 1 : 0;
}
