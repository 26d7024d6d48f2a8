/*
 * libvterm on moshi's benchmark corpora (written by term_bench --corpora):
 * the same bytes, fed 64 KiB at a time to an 80x24 VTerm with its screen
 * layer, best of three passes. Built with the system compiler against
 * Debian's libvterm-dev: a benchmark-only dependency.
 *
 * Usage: vterm_bench DIR    prints "bench vterm_NAME_throughput X MB/s"
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vterm.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "scroll", "colour", "cursor" };

	if (argc != 2) {
		fprintf(stderr, "usage: vterm_bench DIR\n");
		return 2;
	}
	for (int i = 0; i < 3; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s.vt", argv[1], names[i]);
		FILE *f = fopen(path, "rb");
		if (f == NULL) {
			perror(path);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		fseek(f, 0, SEEK_SET);
		char *d = malloc((size_t)n);
		if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n) {
			perror(path);
			return 1;
		}
		fclose(f);
		double best = 0;
		for (int pass = 0; pass < 3; pass++) {
			VTerm *vt = vterm_new(24, 80);
			vterm_set_utf8(vt, 1);
			VTermScreen *screen = vterm_obtain_screen(vt);
			vterm_screen_reset(screen, 1);
			double start = now();
			for (long off = 0; off < n; off += 65536) {
				long k = n - off < 65536 ? n - off : 65536;
				vterm_input_write(vt, d + off, (size_t)k);
			}
			double mbs = (double)n / (now() - start) / 1e6;
			if (mbs > best)
				best = mbs;
			vterm_free(vt);
		}
		printf("bench vterm_%s_throughput %.1f MB/s\n", names[i], best);
		fflush(stdout);
		free(d);
	}
	return 0;
}
