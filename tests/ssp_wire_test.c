/* Unit tests of the ssp/ wire layer: the checked reader, varints,
 * instructions (every malformed case), fragments and their reassembly
 * under loss, duplication and reordering. */
#include "test.h"

#include <stdint.h>

#include "../ssp/ssp.h"

static uint64_t rs = 0x1234567887654321ULL;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return n ? (uint32_t)(rs % n) : 0;
}

TEST(reader_bounds_and_no_partial_consume)
{
	static const uint8_t d[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct ssp_reader r;
	uint8_t b;
	uint16_t h;
	uint64_t q;
	const uint8_t *p;

	ssp_reader_init(&r, d, sizeof d);
	CHECK_EQ_INT(ssp_get_u8(&r, &b), SSP_OK);
	CHECK_EQ_INT(b, 1);
	CHECK_EQ_INT(ssp_get_u16(&r, &h), SSP_OK);
	CHECK_EQ_INT(h, 0x0203);
	CHECK_EQ_INT(ssp_get_u64(&r, &q), SSP_EMALFORMED); /* only 6 left */
	CHECK_EQ_INT(ssp_reader_left(&r), 6);               /* nothing consumed */
	CHECK_EQ_INT(ssp_get_bytes(&r, 7, &p), SSP_EMALFORMED);
	CHECK_EQ_INT(ssp_get_bytes(&r, 6, &p), SSP_OK);
	CHECK_EQ_INT(p[0], 4);
	CHECK_EQ_INT(ssp_get_u8(&r, &b), SSP_EMALFORMED);
	CHECK_EQ_INT(ssp_get_bytes(&r, SIZE_MAX, &p), SSP_EMALFORMED);
	ssp_reader_init(&r, NULL, 5);
	CHECK_EQ_INT(ssp_reader_left(&r), 0);
}

TEST(varint_round_trip_and_rejections)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 255, 300, 16383, 16384,
		(1ULL << 32) - 1, 1ULL << 32, (1ULL << 63) - 1, 1ULL << 63, UINT64_MAX };
	struct ssp_writer w = { 0 };
	struct ssp_reader r;
	uint64_t v;

	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		w.len = 0;
		ssp_put_varint(&w, vals[i]);
		ssp_reader_init(&r, w.data, w.len);
		CHECK_EQ_INT(ssp_get_varint(&r, &v), SSP_OK);
		CHECK(v == vals[i]);
		CHECK_EQ_INT(ssp_reader_left(&r), 0);
		/* Every truncation fails and consumes nothing. */
		for (size_t n = 0; n < w.len; n++) {
			ssp_reader_init(&r, w.data, n);
			CHECK_EQ_INT(ssp_get_varint(&r, &v), SSP_EMALFORMED);
			CHECK_EQ_INT(r.off, 0);
		}
	}
	static const uint8_t overlong[] = { 0x80, 0x00 };
	static const uint8_t eleven[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                  0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t tenth_big[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                     0xff, 0xff, 0xff, 0x02 };
	ssp_reader_init(&r, overlong, sizeof overlong);
	CHECK_EQ_INT(ssp_get_varint(&r, &v), SSP_EMALFORMED);
	ssp_reader_init(&r, eleven, sizeof eleven);
	CHECK_EQ_INT(ssp_get_varint(&r, &v), SSP_EMALFORMED);
	ssp_reader_init(&r, tenth_big, sizeof tenth_big);
	CHECK_EQ_INT(ssp_get_varint(&r, &v), SSP_EMALFORMED);
	ssp_writer_free(&w);
}

static const uint8_t sample_diff[] = "\033[Hhello, world\033[K";

static void encode_sample(struct ssp_writer *w, uint8_t chaff)
{
	struct ssp_instruction in = { 5, 9, 3, 2, sample_diff,
	                              sizeof sample_diff - 1, chaff };
	w->len = 0;
	if (ssp_instruction_encode(&in, w) != SSP_OK)
		test_fail_(__FILE__, __LINE__, "encode failed");
}

TEST(instruction_round_trip)
{
	struct ssp_writer w = { 0 };
	struct ssp_instruction out;

	for (uint8_t chaff = 0; chaff <= SSP_MAX_CHAFF; chaff++) {
		encode_sample(&w, chaff);
		REQUIRE(ssp_instruction_decode(&out, w.data, w.len) == SSP_OK);
		CHECK(out.old_num == 5 && out.new_num == 9 && out.ack_num == 3 &&
		      out.throwaway_num == 2);
		CHECK_EQ_INT(out.diff_len, sizeof sample_diff - 1);
		CHECK(memcmp(out.diff, sample_diff, out.diff_len) == 0);
		CHECK_EQ_INT(out.chaff_len, chaff);
	}
	/* A pure acknowledgement and the shutdown instruction. */
	struct ssp_instruction ack = { 7, 7, 4, 7, NULL, 0, 0 };
	w.len = 0;
	REQUIRE(ssp_instruction_encode(&ack, &w) == SSP_OK);
	CHECK_EQ_INT(ssp_instruction_decode(&out, w.data, w.len), SSP_OK);
	struct ssp_instruction bye = { 7, SSP_SHUTDOWN_NUM, 4, 7, NULL, 0, 0 };
	w.len = 0;
	REQUIRE(ssp_instruction_encode(&bye, &w) == SSP_OK);
	CHECK_EQ_INT(ssp_instruction_decode(&out, w.data, w.len), SSP_OK);
	CHECK(out.new_num == SSP_SHUTDOWN_NUM);
	ssp_writer_free(&w);
}

TEST(instruction_malformed_cases)
{
	struct ssp_writer w = { 0 };
	struct ssp_instruction out;

	encode_sample(&w, 3);
	/* Every strict prefix, and one byte more. */
	for (size_t n = 0; n < w.len; n++)
		CHECKF(ssp_instruction_decode(&out, w.data, n) != SSP_OK,
		       "prefix of %zu bytes accepted", n);
	ssp_put_u8(&w, 0);
	CHECK_EQ_INT(ssp_instruction_decode(&out, w.data, w.len), SSP_EMALFORMED);
	/* Version. */
	encode_sample(&w, 0);
	w.data[0] = 2;
	CHECK_EQ_INT(ssp_instruction_decode(&out, w.data, w.len), SSP_EVERSION);
	/* Hand-made: diff too long, chaff too long, old > new, ack with diff. */
	struct ssp_writer h = { 0 };
	ssp_put_u8(&h, 1);
	for (int i = 0; i < 4; i++)
		ssp_put_varint(&h, 1);
	ssp_put_varint(&h, SSP_MAX_DIFF + 1);
	CHECK_EQ_INT(ssp_instruction_decode(&out, h.data, h.len), SSP_ETOOBIG);
	h.len = 0;
	ssp_put_u8(&h, 1);
	ssp_put_varint(&h, 1); ssp_put_varint(&h, 2);
	ssp_put_varint(&h, 0); ssp_put_varint(&h, 0);
	ssp_put_varint(&h, 0);
	ssp_put_u8(&h, SSP_MAX_CHAFF + 1);
	for (int i = 0; i <= SSP_MAX_CHAFF; i++)
		ssp_put_u8(&h, 0);
	CHECK_EQ_INT(ssp_instruction_decode(&out, h.data, h.len), SSP_ETOOBIG);
	h.len = 0;
	ssp_put_u8(&h, 1);
	ssp_put_varint(&h, 9); ssp_put_varint(&h, 2);
	ssp_put_varint(&h, 0); ssp_put_varint(&h, 0);
	ssp_put_varint(&h, 0); ssp_put_u8(&h, 0);
	CHECK_EQ_INT(ssp_instruction_decode(&out, h.data, h.len), SSP_EMALFORMED);
	h.len = 0;
	ssp_put_u8(&h, 1);
	ssp_put_varint(&h, 4); ssp_put_varint(&h, 4);
	ssp_put_varint(&h, 0); ssp_put_varint(&h, 0);
	ssp_put_varint(&h, 1); ssp_put_u8(&h, 'x'); ssp_put_u8(&h, 0);
	CHECK_EQ_INT(ssp_instruction_decode(&out, h.data, h.len), SSP_EMALFORMED);
	/* Encoder refuses what the decoder would. */
	struct ssp_instruction big = { 0, 1, 0, 0, sample_diff, SSP_MAX_DIFF + 1, 0 };
	CHECK_EQ_INT(ssp_instruction_encode(&big, &w), SSP_EINVAL);
	/* Random corruption never crashes: decoded or refused. */
	for (int i = 0; i < 20000; i++) {
		encode_sample(&w, (uint8_t)rnd(17));
		for (int k = 1 + (int)rnd(3); k > 0; k--)
			w.data[rnd((uint32_t)w.len)] ^= (uint8_t)(1 + rnd(255));
		int rc = ssp_instruction_decode(&out, w.data, w.len);
		if (rc == SSP_OK)
			CHECK(out.diff + out.diff_len <= w.data + w.len);
	}
	ssp_writer_free(&h);
	ssp_writer_free(&w);
}

/* Fragments collected for the tests. */
struct frags {
	uint8_t *f[8192];
	size_t n[8192];
	int count;
};

static int collect(void *ctx, const uint8_t *frag, size_t n)
{
	struct frags *fr = ctx;
	if (fr->count >= 8192)
		return SSP_ETOOBIG;
	fr->f[fr->count] = malloc(n);
	if (fr->f[fr->count] == NULL)
		return SSP_ENOMEM;
	memcpy(fr->f[fr->count], frag, n);
	fr->n[fr->count++] = n;
	return SSP_OK;
}

static void frags_free(struct frags *fr)
{
	for (int i = 0; i < fr->count; i++)
		free(fr->f[i]);
	fr->count = 0;
}

TEST(fragments_round_trip_all_sizes)
{
	static struct frags fr;
	uint8_t *data = malloc(20000);
	REQUIRE(data);
	for (int i = 0; i < 20000; i++)
		data[i] = (uint8_t)rnd(256);
	static const size_t mtus[] = { 13, 100, 500, 1216, 1252 };
	uint64_t id = 1;
	for (size_t m = 0; m < sizeof mtus / sizeof mtus[0]; m++) {
		struct ssp_reassembly *ra = ssp_reassembly_new();
		REQUIRE(ra);
		for (size_t len = 0; len < 20000; len += 1 + len / 3) {
			const uint8_t *out = NULL;
			size_t olen = 0;
			int got = 0;
			size_t room = mtus[m] - SSP_FRAGMENT_HEADER_MAX;
			if ((len + room - 1) / room > SSP_MAX_FRAGMENTS) {
				CHECK_EQ_INT(ssp_fragment(id, data, len, mtus[m], collect, &fr),
				             SSP_ETOOBIG);
				CHECK_EQ_INT(fr.count, 0);
				continue;
			}
			REQUIRE(ssp_fragment(id, data, len, mtus[m], collect, &fr) == SSP_OK);
			for (int i = 0; i < fr.count; i++) {
				CHECK(fr.n[i] <= mtus[m]);
				int rc = ssp_reassembly_add(ra, fr.f[i], fr.n[i], &out, &olen);
				CHECK(rc >= 0);
				got += rc == 1;
			}
			CHECK_EQ_INT(got, 1);
			CHECK_EQ_INT(olen, len);
			CHECK(len == 0 || memcmp(out, data, len) == 0);
			frags_free(&fr);
			id++;
		}
		ssp_reassembly_free(ra);
	}
	free(data);
}

/* Loss, duplication and reordering: an instruction completes exactly when
 * all of its fragments have arrived, whatever the order, and once. */
TEST(fragments_shuffled_duplicated_dropped)
{
	static struct frags fr;
	uint8_t data[9000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 31);
	struct ssp_reassembly *ra = ssp_reassembly_new();
	REQUIRE(ra);
	for (uint64_t id = 10; id < 400; id++) {
		size_t len = rnd(sizeof data);
		REQUIRE(ssp_fragment(id, data, len, 500, collect, &fr) == SSP_OK);
		/* Deliver a shuffled multiset: each fragment 0..3 times. */
		int order[64], n = 0;
		bool lost = false;
		for (int i = 0; i < fr.count; i++) {
			int copies = (int)rnd(4);
			if (copies == 0)
				lost = true;
			for (int c = 0; c < copies && n < 64; c++)
				order[n++] = i;
		}
		for (int i = n - 1; i > 0; i--) {
			int j = (int)rnd((uint32_t)i + 1), t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		int completions = 0;
		const uint8_t *out = NULL;
		size_t olen = 0;
		for (int i = 0; i < n; i++)
			if (ssp_reassembly_add(ra, fr.f[order[i]], fr.n[order[i]], &out, &olen) == 1)
				completions++;
		CHECK_EQ_INT(completions, lost ? 0 : 1);
		if (!lost)
			CHECK(olen == len && memcmp(out, data, len) == 0);
		frags_free(&fr);
	}
	ssp_reassembly_free(ra);
}

TEST(fragments_newest_id_wins_and_bounds)
{
	static struct frags a, b;
	uint8_t data[3000];
	memset(data, 'z', sizeof data);
	struct ssp_reassembly *ra = ssp_reassembly_new();
	const uint8_t *out;
	size_t olen;

	REQUIRE(ra);
	REQUIRE(ssp_fragment(5, data, 2000, 500, collect, &a) == SSP_OK);
	REQUIRE(ssp_fragment(6, data, 1000, 500, collect, &b) == SSP_OK);
	CHECK_EQ_INT(ssp_reassembly_add(ra, a.f[0], a.n[0], &out, &olen), 0);
	/* id 6 starts: id 5's pieces are given up, and stay refused. */
	CHECK_EQ_INT(ssp_reassembly_add(ra, b.f[0], b.n[0], &out, &olen), 0);
	CHECK_EQ_INT(ssp_reassembly_add(ra, a.f[1], a.n[1], &out, &olen), SSP_EREPLAY);
	CHECK_EQ_INT(ssp_reassembly_add(ra, b.f[1], b.n[1], &out, &olen), 0);
	CHECK_EQ_INT(ssp_reassembly_add(ra, b.f[2], b.n[2], &out, &olen), 1);
	CHECK_EQ_INT(olen, 1000);
	/* A finished id cannot be completed again (replay). */
	CHECK_EQ_INT(ssp_reassembly_add(ra, b.f[2], b.n[2], &out, &olen), SSP_EREPLAY);
	frags_free(&a);
	frags_free(&b);

	/* Malformed headers and bounds. */
	struct ssp_writer w = { 0 };
	CHECK_EQ_INT(ssp_reassembly_add(ra, (const uint8_t *)"", 0, &out, &olen),
	             SSP_EMALFORMED);
	ssp_put_varint(&w, 9);
	CHECK_EQ_INT(ssp_reassembly_add(ra, w.data, w.len, &out, &olen), SSP_EMALFORMED);
	ssp_put_u16(&w, SSP_MAX_FRAGMENTS);
	CHECK_EQ_INT(ssp_reassembly_add(ra, w.data, w.len, &out, &olen), SSP_ETOOBIG);
	/* Two different final fragments for one id. */
	w.len = 0;
	ssp_put_varint(&w, 20);
	ssp_put_u16(&w, 0x8000 | 3);
	CHECK_EQ_INT(ssp_reassembly_add(ra, w.data, w.len, &out, &olen), 0);
	w.len = 0;
	ssp_put_varint(&w, 20);
	ssp_put_u16(&w, 0x8000 | 5);
	CHECK_EQ_INT(ssp_reassembly_add(ra, w.data, w.len, &out, &olen), SSP_EMALFORMED);
	/* A fragment past the final one. */
	w.len = 0;
	ssp_put_varint(&w, 20);
	ssp_put_u16(&w, 7);
	CHECK_EQ_INT(ssp_reassembly_add(ra, w.data, w.len, &out, &olen), SSP_EMALFORMED);
	/* More bytes than an instruction may have: 4095 fragments of 1100. */
	uint8_t big[1200];
	memset(big, 1, sizeof big);
	int rc = 0;
	for (int i = 0; i < 4095 && rc >= 0; i++) {
		w.len = 0;
		ssp_put_varint(&w, 30);
		ssp_put_u16(&w, (uint16_t)i);
		ssp_put_bytes(&w, big, 1100);
		rc = ssp_reassembly_add(ra, w.data, w.len, &out, &olen);
	}
	CHECK_EQ_INT(rc, SSP_ETOOBIG);
	/* The fragmenter refuses to make what the reassembler would drop. */
	CHECK_EQ_INT(ssp_fragment(1, big, 100, SSP_FRAGMENT_HEADER_MAX, collect, &a),
	             SSP_EINVAL);
	ssp_writer_free(&w);
	ssp_reassembly_free(ra);
}

static const struct test tests[] = {
	TEST_ENTRY(reader_bounds_and_no_partial_consume),
	TEST_ENTRY(varint_round_trip_and_rejections),
	TEST_ENTRY(instruction_round_trip),
	TEST_ENTRY(instruction_malformed_cases),
	TEST_ENTRY(fragments_round_trip_all_sizes),
	TEST_ENTRY(fragments_shuffled_duplicated_dropped),
	TEST_ENTRY(fragments_newest_id_wins_and_bounds),
};

TEST_MAIN("ssp-wire", tests)
