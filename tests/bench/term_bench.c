/*
 * Emulator and renderer benchmarks.
 *
 *   term_bench                 print bench lines
 *   term_bench --corpora DIR   also write the three corpora to DIR, for the
 *                              libvterm benchmark to read the same bytes
 *
 * Corpora (deterministic):
 *   scroll  the output of `seq 1 2000000` with CRLF line ends (16.9 MB)
 *   colour  lines of words, each word in a new SGR colour (16 MB)
 *   cursor  full-screen redraws by cursor addressing, as top does (16 MB)
 *
 * Each corpus is measured as moshi runs (term_NAME_throughput) and with
 * lines kept as bytes turned off (term_NAME_eager_throughput: every line
 * emulated cell by cell as it arrives; see flood_lines in term/flood.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../term/internal.h"

struct corpus {
	const char *name;
	char *d;
	size_t n, cap;
};

static void cput(struct corpus *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void cput(struct corpus *c, const char *fmt, ...)
{
	va_list ap;
	if (c->cap - c->n < 512) {
		c->cap = c->cap ? c->cap * 2 : 1 << 20;
		c->d = realloc(c->d, c->cap);
		if (c->d == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	va_start(ap, fmt);
	c->n += (size_t)vsnprintf(c->d + c->n, c->cap - c->n, fmt, ap);
	va_end(ap);
}

static uint32_t seed = 12345;
static uint32_t rnd(uint32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) % n;
}

static void make_scroll(struct corpus *c)
{
	for (int i = 1; i <= 2000000; i++)
		cput(c, "%d\r\n", i);
}

static void make_colour(struct corpus *c)
{
	static const char *const words[] = { "moshi", "terminal", "colour",
		"lorem", "ipsum", "dolor", "sit", "amet", "src", "README" };
	while (c->n < 16u << 20) {
		int col = 0;
		while (col < 70) {
			const char *w = words[rnd(10)];
			switch (rnd(4)) {
			case 0: cput(c, "\033[%u;3%um", rnd(2), rnd(8)); break;
			case 1: cput(c, "\033[38;5;%um", rnd(256)); break;
			case 2: cput(c, "\033[38;2;%u;%u;%um", rnd(256), rnd(256), rnd(256)); break;
			default: cput(c, "\033[1;4;9%u;4%um", rnd(8), rnd(8)); break;
			}
			cput(c, "%s\033[0m ", w);
			col += (int)strlen(w) + 1;
		}
		cput(c, "\r\n");
	}
}

static void make_cursor(struct corpus *c)
{
	while (c->n < 16u << 20) {
		cput(c, "\033[H");
		for (int row = 1; row <= 24; row++) {
			cput(c, "\033[%d;1H", row);
			if (rnd(3) == 0)
				cput(c, "\033[7m");
			cput(c, "%5u root      20   0 %7u %6u %5u S %4u.%u %4u.%u %3u:%02u.%02u proc%u",
			     rnd(99999), rnd(9999999), rnd(999999), rnd(99999), rnd(100), rnd(10),
			     rnd(100), rnd(10), rnd(999), rnd(60), rnd(100), rnd(1000));
			cput(c, "\033[m\033[K");
		}
		for (int k = 0; k < 40; k++)
			cput(c, "\033[%u;%uH%u", 1 + rnd(24), 1 + rnd(70), rnd(100000));
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of three passes, feeding 64 KiB at a time as a pty read would;
 * flood: whether lines may be kept as bytes (term_set_flood_lines). */
static double throughput(const struct corpus *c, bool flood)
{
	double best = 0;
	for (int pass = 0; pass < 3; pass++) {
		struct term *t = term_new(80, 24);
		if (t == NULL)
			exit(1);
		term_set_flood_lines(t, flood);
		double start = now();
		for (size_t off = 0; off < c->n; off += 65536) {
			size_t k = c->n - off < 65536 ? c->n - off : 65536;
			term_write(t, c->d + off, k);
			term_replies_clear(t);
		}
		double mbs = (double)c->n / (now() - start) / 1e6;
		if (mbs > best)
			best = mbs;
		term_free(t);
	}
	return best;
}

static size_t render_bytes(const struct term_frame *a, const struct term_frame *b)
{
	struct term_buf out = { 0 };
	term_render(a, b, &out);
	size_t n = out.len;
	term_buf_free(&out);
	return n;
}

static void renderer_figures(void)
{
	struct term *t = term_new(80, 24);
	struct corpus c = { "fill", NULL, 0, 0 };
	char line[128];

	/* A full screen of shell output ending in a prompt. */
	for (int i = 0; i < 23; i++) {
		snprintf(line, sizeof line, "-rw-r--r-- 1 user user %6d Nov 21 13:%02d file%03d.txt\r\n",
		         i * 1000, i, i);
		term_write(t, line, strlen(line));
	}
	term_write(t, "\033[1;32muser@host\033[m:\033[1;34m~\033[m$ ", 39);
	struct term_frame *before = term_frame_copy(term_frame(t));
	term_write(t, "l", 1);
	printf("bench render_bytes_typed_char %zu bytes\n",
	       render_bytes(before, term_frame(t)));
	term_frame_free(before);

	before = term_frame_copy(term_frame(t));
	term_write(t, "s\r\nnew line of output\r\n", 23);
	struct term_frame *mid = term_frame_copy(term_frame(t));
	term_frame_free(before);
	before = mid;
	term_write(t, "one more line\r\n", 15);
	printf("bench render_bytes_scroll_one_line %zu bytes\n",
	       render_bytes(before, term_frame(t)));
	printf("bench render_bytes_full_repaint %zu bytes\n",
	       render_bytes(NULL, term_frame(t)));
	term_frame_free(before);

	/* Frames per second when every cell changes between two frames. */
	make_cursor(&c);
	struct term *a = term_new(80, 24), *b = term_new(80, 24);
	for (int r = 0; r < 24; r++) {
		snprintf(line, sizeof line, "\033[%d;1H\033[3%dm", r + 1, r % 8);
		term_write(a, line, strlen(line));
		term_write(b, line + 0, strlen(line));
		for (int x = 0; x < 80; x++) {
			term_write(a, "abcdefghij" + (x + r) % 10, 1);
			term_write(b, "ABCDEFGHIJ" + (x * 3 + r) % 10, 1);
		}
	}
	struct term_frame *fa = term_frame_copy(term_frame(a));
	struct term_frame *fb = term_frame_copy(term_frame(b));
	struct term_buf out = { 0 };
	long frames = 0;
	double start = now(), el = 0;
	while ((el = now() - start) < 1.0) {
		for (int i = 0; i < 100; i++) {
			out.len = 0;
			term_render(frames & 1 ? fb : fa, frames & 1 ? fa : fb, &out);
			frames++;
		}
	}
	printf("bench render_full_change_fps %.0f frames/s\n", frames / el);
	printf("bench render_bytes_full_change %zu bytes\n", out.len);
	term_buf_free(&out);
	term_frame_free(fa);
	term_frame_free(fb);
	term_free(a);
	term_free(b);
	term_free(t);
	free(c.d);
}

int main(int argc, char **argv)
{
	struct corpus cs[3] = { { "scroll", NULL, 0, 0 }, { "colour", NULL, 0, 0 },
	                        { "cursor", NULL, 0, 0 } };
	make_scroll(&cs[0]);
	make_colour(&cs[1]);
	make_cursor(&cs[2]);
	if (argc == 3 && strcmp(argv[1], "--corpora") == 0) {
		for (int i = 0; i < 3; i++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s.vt", argv[2], cs[i].name);
			FILE *f = fopen(path, "wb");
			if (f == NULL || fwrite(cs[i].d, 1, cs[i].n, f) != cs[i].n ||
			    fclose(f) != 0) {
				perror(path);
				return 1;
			}
		}
	}
	for (int i = 0; i < 3; i++) {
		printf("bench term_%s_corpus %.1f MB\n", cs[i].name, cs[i].n / 1e6);
		printf("bench term_%s_throughput %.1f MB/s\n", cs[i].name,
		       throughput(&cs[i], true));
		fflush(stdout);
		printf("bench term_%s_eager_throughput %.1f MB/s\n", cs[i].name,
		       throughput(&cs[i], false));
		fflush(stdout);
		free(cs[i].d);
	}
	renderer_figures();
	return 0;
}
