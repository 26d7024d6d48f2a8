/*
 * term_ab: two builds of term/ in one process, fed the same corpora chunk
 * by chunk in turn (see term_ab.sh, which builds it). On a machine whose
 * speed drifts by more than the difference sought, separate runs of two
 * binaries cannot tell 5% apart; here both see the same drift.
 *
 *   term_ab FILE...   prints per file: MB/s of A and of B, and B/A
 *
 * Each 16 KiB chunk counts with the fastest of seven passes, for each
 * build; the order of the two alternates from chunk to chunk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct term;
struct term *A_term_new(int cols, int rows);
void A_term_write(struct term *t, const void *buf, size_t len);
void A_term_replies_clear(struct term *t);
void A_term_free(struct term *t);
struct term *B_term_new(int cols, int rows);
void B_term_write(struct term *t, const void *buf, size_t len);
void B_term_replies_clear(struct term *t);
void B_term_free(struct term *t);

#define CHUNK 16384
#define PASSES 7

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void feed(int which, struct term *t, const char *d, size_t k, double *best)
{
	double start = now();
	if (which == 0) {
		A_term_write(t, d, k);
		A_term_replies_clear(t);
	} else {
		B_term_write(t, d, k);
		B_term_replies_clear(t);
	}
	double el = now() - start;
	if (el < *best)
		*best = el;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (f == NULL || fseek(f, 0, SEEK_END) != 0) {
			perror(argv[i]);
			return 1;
		}
		long n = ftell(f);
		rewind(f);
		char *d = malloc((size_t)n + 1);
		long nc = (n + CHUNK - 1) / CHUNK;
		double *best = malloc(2 * (size_t)(nc + 1) * sizeof *best);
		if (d == NULL || best == NULL || fread(d, 1, (size_t)n, f) != (size_t)n) {
			perror(argv[i]);
			return 1;
		}
		fclose(f);
		for (long c = 0; c < 2 * nc; c++)
			best[c] = 1e9;
		for (int p = 0; p < PASSES; p++) {
			struct term *t[2] = { A_term_new(80, 24), B_term_new(80, 24) };
			if (t[0] == NULL || t[1] == NULL)
				return 1;
			for (long c = 0; c < nc; c++) {
				size_t k = n - c * CHUNK < CHUNK ? (size_t)(n - c * CHUNK) : CHUNK;
				int first = (int)((c + p) & 1);
				feed(first, t[first], d + c * CHUNK, k, &best[2 * c + first]);
				feed(!first, t[!first], d + c * CHUNK, k, &best[2 * c + !first]);
			}
			A_term_free(t[0]);
			B_term_free(t[1]);
		}
		double sum[2] = { 0, 0 };
		for (long c = 0; c < nc; c++) {
			sum[0] += best[2 * c];
			sum[1] += best[2 * c + 1];
		}
		printf("%-24s A %7.1f MB/s  B %7.1f MB/s  B/A %.3f\n", argv[i],
		       (double)n / sum[0] / 1e6, (double)n / sum[1] / 1e6, sum[0] / sum[1]);
		free(d);
		free(best);
	}
	return 0;
}
