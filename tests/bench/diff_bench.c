/* Bytes of terminal-state diffs for three workloads, to decide on
 * compression (mosh compresses every instruction with zlib).
 *
 *   diff_bench [DIR]   prints bench lines; with DIR, also writes each
 *                      workload's diffs as DIR/NAME.diffs (u32 length,
 *                      bytes, ...) for tests/bench.sh to compress.
 *
 * typing: 400 keystrokes echoed at a shell prompt, one diff each
 * flood:  `seq 1 200000` with CRLF, 16 KiB of output between frames
 * top:    cursor-addressed full-screen redraws, one diff per redraw
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../term/term.h"

static FILE *out;
static size_t total, count;

static void frame_diff(const struct term_frame *a, const struct term_frame *b)
{
	struct term_buf buf = { 0 };
	term_render(a, b, &buf);
	total += buf.len;
	count++;
	if (out) {
		unsigned char len[4] = { (unsigned char)(buf.len >> 24), (unsigned char)(buf.len >> 16),
		                         (unsigned char)(buf.len >> 8), (unsigned char)buf.len };
		fwrite(len, 1, 4, out);
		fwrite(buf.data, 1, buf.len, out);
	}
	term_buf_free(&buf);
}

/* Feed `data` in steps of `step` bytes, diffing the frames around each. */
static void workload(const char *dir, const char *name, const char *data, size_t n,
                     size_t step)
{
	char path[4096];
	struct term *t = term_new(80, 24);
	struct term_frame *prev = term_frame_copy(term_frame(t));

	total = count = 0;
	out = NULL;
	if (dir) {
		snprintf(path, sizeof path, "%s/%s.diffs", dir, name);
		out = fopen(path, "wb");
	}
	for (size_t off = 0; off < n; off += step) {
		term_write(t, data + off, n - off < step ? n - off : step);
		term_replies_clear(t);
		frame_diff(prev, term_frame(t));
		term_frame_free(prev);
		prev = term_frame_copy(term_frame(t));
	}
	if (out)
		fclose(out);
	printf("bench diff_%s_frames %zu frames\n", name, count);
	printf("bench diff_%s_bytes %zu bytes\n", name, total);
	term_frame_free(prev);
	term_free(t);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	size_t cap = 4 << 20, n = 0;
	char *d = malloc(cap);
	if (d == NULL)
		return 1;

	/* typing */
	n = (size_t)snprintf(d, cap, "\033[1;32muser@host\033[m:~$ ");
	static const char words[] = "ls -la /usr/share/doc | grep moshi && echo done ";
	for (int i = 0; i < 400; i++)
		d[n++] = words[i % (sizeof words - 1)];
	workload(dir, "typing", d, n, 1);

	/* flood */
	n = 0;
	for (int i = 1; i <= 200000 && n + 16 < cap; i++)
		n += (size_t)snprintf(d + n, cap - n, "%d\r\n", i);
	workload(dir, "flood", d, n, 16384);

	/* top-like redraws */
	n = 0;
	unsigned r = 1;
	for (int f = 0; f < 300; f++) {
		size_t start = n;
		n += (size_t)snprintf(d + n, cap - n, "\033[H\033[7m  PID USER   %%CPU COMMAND%60s\033[m", "");
		for (int row = 2; row <= 24; row++) {
			r = r * 1103515245u + 12345u;
			n += (size_t)snprintf(d + n, cap - n, "\033[%d;1H%5u root  %4u.%u proc%u\033[K",
			                      row, r % 99999, (r >> 8) % 100, (r >> 16) % 10, row);
		}
		(void)start;
	}
	/* one redraw per diff: cut at each home sequence */
	char *p = d, *end = d + n;
	struct term *t = term_new(80, 24);
	struct term_frame *prev = term_frame_copy(term_frame(t));
	char path[4096];
	total = count = 0;
	out = NULL;
	if (dir) {
		snprintf(path, sizeof path, "%s/top.diffs", dir);
		out = fopen(path, "wb");
	}
	while (p < end) {
		char *next = strstr(p + 1, "\033[H\033[7m");
		if (next == NULL)
			next = end;
		term_write(t, p, (size_t)(next - p));
		frame_diff(prev, term_frame(t));
		term_frame_free(prev);
		prev = term_frame_copy(term_frame(t));
		p = next;
	}
	if (out)
		fclose(out);
	printf("bench diff_top_frames %zu frames\n", count);
	printf("bench diff_top_bytes %zu bytes\n", total);
	term_frame_free(prev);
	term_free(t);
	free(d);
	return 0;
}
