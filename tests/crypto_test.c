/* Unit tests of crypto/: published GCM vectors, moshi's nonce layout,
 * tamper detection, nonce uniqueness, counter exhaustion and base64 keys. */
#include "test.h"

#include <stdint.h>

#include "../crypto/crypto.h"
#include "mbedtls/gcm.h"

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 3
 * and 4 (AES-128). Test cases 1 and 2 use an all-zero key and IV, which is
 * exactly moshi's nonce for direction 0, sequence 0, so they are checked
 * through crypto_seal below. */
static const char tc_key[] = "feffe9928665731c6d6a8f9467308308";
static const char tc_iv[] = "cafebabefacedbaddecaf888";
static const char tc_pt[] =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char tc3_ct[] =
	"42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	"21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";
static const char tc3_tag[] = "4d5c2af327cd64a62cf35abd2ba6fab4";
static const char tc4_aad[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
static const char tc4_tag[] = "5bc94fbc3221a5db94fae95ae7121a47";

static void new_session(struct crypto_session **s, const struct crypto_key *k,
                        enum crypto_direction d)
{
	int rc = crypto_session_new(s, k, d);
	if (rc != CRYPTO_OK)
		test_fail_(__FILE__, __LINE__, "session: %s", crypto_strerror(rc));
}

TEST(gcm_backend_published_vectors)
{
	unsigned char key[16], iv[12], pt[64], ct[64], want[64], tag[16], wtag[16], aad[20];
	mbedtls_gcm_context g;

	test_unhex(tc_key, key, sizeof key);
	test_unhex(tc_iv, iv, sizeof iv);
	test_unhex(tc_pt, pt, sizeof pt);
	test_unhex(tc3_ct, want, sizeof want);
	mbedtls_gcm_init(&g);
	REQUIRE(mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 128) == 0);

	/* Test case 3: 64 bytes, no AAD. */
	REQUIRE(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, 64, iv, 12,
	                                  NULL, 0, pt, ct, 16, tag) == 0);
	test_unhex(tc3_tag, wtag, sizeof wtag);
	CHECK(memcmp(ct, want, 64) == 0);
	CHECK(memcmp(tag, wtag, 16) == 0);

	/* Test case 4: 60 bytes with 20 bytes of AAD. */
	test_unhex(tc4_aad, aad, sizeof aad);
	REQUIRE(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, 60, iv, 12,
	                                  aad, 20, pt, ct, 16, tag) == 0);
	test_unhex(tc4_tag, wtag, sizeof wtag);
	CHECK(memcmp(ct, want, 60) == 0);
	CHECK(memcmp(tag, wtag, 16) == 0);
	mbedtls_gcm_free(&g);
}

TEST(seal_published_vectors_zero_nonce)
{
	struct crypto_key k = { { 0 } };
	struct crypto_session *s = NULL;
	unsigned char zero[16] = { 0 }, out[64], want[64];
	size_t n = 0;
	uint64_t seq = 99;

	new_session(&s, &k, CRYPTO_TO_SERVER);
	REQUIRE(s != NULL);
	/* Test case 1: empty plaintext, tag only. */
	REQUIRE(crypto_seal(s, NULL, 0, out, sizeof out, &n, &seq) == CRYPTO_OK);
	CHECK_EQ_INT(n, 24);
	CHECK_EQ_INT(seq, 0);
	CHECK(memcmp(out, zero, 8) == 0);
	test_unhex("58e2fccefa7e3061367f1d57a4e7455a", want, sizeof want);
	CHECK(memcmp(out + 8, want, 16) == 0);
	crypto_session_free(s);

	/* Test case 2: sixteen zero bytes; a fresh session so seq is 0. */
	new_session(&s, &k, CRYPTO_TO_SERVER);
	REQUIRE(crypto_seal(s, zero, 16, out, sizeof out, &n, &seq) == CRYPTO_OK);
	CHECK_EQ_INT(n, 40);
	test_unhex("0388dace60b6a392f328c2b971b2fe78"
	           "ab6e47d42cec13bdf53a67b21257bddf", want, sizeof want);
	CHECK(memcmp(out + 8, want, 32) == 0);
	crypto_session_free(s);
}

/* moshi's nonce layout with the direction bit set: this vector was made
 * with an independent GCM implementation (Python's cryptography package)
 * from nonce 00000000 || 8123456789abcdef. */
TEST(seal_moshi_nonce_layout)
{
	struct crypto_key k;
	struct crypto_session *s = NULL;
	unsigned char pt[64], out[128], want[128];
	size_t n = 0;
	uint64_t seq = 0;

	test_unhex(tc_key, k.bytes, sizeof k.bytes);
	test_unhex(tc_pt, pt, sizeof pt);
	new_session(&s, &k, CRYPTO_TO_CLIENT);
	REQUIRE(s != NULL);
	REQUIRE(crypto_session_skip_to(s, 0x0123456789abcdefULL) == CRYPTO_OK);
	REQUIRE(crypto_seal(s, pt, 60, out, sizeof out, &n, &seq) == CRYPTO_OK);
	CHECK_EQ_INT(seq, 0x0123456789abcdefULL);
	CHECK_EQ_INT(n, 8 + 60 + 16);
	size_t wl = test_unhex(
		"8123456789abcdef"
		"e1e9696f3e3fe5298affcf9c1433122c96ea4a1b0abad9b0023dc8c843fea5b0"
		"6b6cb615c65629019e1487820aa5c3f7e77819da7b7022048b8ca6f4"
		"c0f5b9c6bd5fb275bc39893d1a0a9d98", want, sizeof want);
	CHECK_EQ_INT(wl, n);
	CHECK(memcmp(out, want, n) == 0);
	CHECK_EQ_INT(crypto_session_next_seq(s), 0x0123456789abcdf0ULL);
	crypto_session_free(s);
}

TEST(open_round_trip_and_errors)
{
	struct crypto_key k;
	struct crypto_session *cli = NULL, *srv = NULL;
	unsigned char msg[300], dg[400], back[400];
	size_t n = 0, m = 0;
	uint64_t seq = 0, rseq = 0;

	REQUIRE(crypto_key_generate(&k) == CRYPTO_OK);
	new_session(&cli, &k, CRYPTO_TO_SERVER);
	new_session(&srv, &k, CRYPTO_TO_CLIENT);
	REQUIRE(cli && srv);
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)(i * 7);
	for (int round = 0; round < 3; round++) {
		REQUIRE(crypto_seal(cli, msg, sizeof msg, dg, sizeof dg, &n, &seq) == 0);
		CHECK_EQ_INT(seq, round);
		REQUIRE(crypto_open(srv, dg, n, back, sizeof back, &m, &rseq) == 0);
		CHECK_EQ_INT(m, sizeof msg);
		CHECK_EQ_INT(rseq, round);
		CHECK(memcmp(back, msg, sizeof msg) == 0);
	}
	/* A server's own packet fed back to it is a reflection. */
	REQUIRE(crypto_seal(srv, msg, 10, dg, sizeof dg, &n, &seq) == 0);
	CHECK_EQ_INT(crypto_open(srv, dg, n, back, sizeof back, &m, &rseq),
	             CRYPTO_EDIRECTION);
	CHECK_EQ_INT(crypto_open(cli, dg, n, back, sizeof back, &m, &rseq), 0);
	/* Too short to hold nonce and tag; output too small; seal space. */
	CHECK_EQ_INT(crypto_open(cli, dg, 23, back, sizeof back, &m, &rseq),
	             CRYPTO_EINVAL);
	CHECK_EQ_INT(crypto_open(cli, dg, n, back, 9, &m, &rseq), CRYPTO_ESPACE);
	CHECK_EQ_INT(crypto_seal(cli, msg, 10, dg, 33, &n, &seq), CRYPTO_ESPACE);
	CHECK_EQ_INT(crypto_open(NULL, dg, n, back, 10, &m, &rseq), CRYPTO_EINVAL);
	/* Another key cannot open it. */
	struct crypto_key k2 = k;
	struct crypto_session *other = NULL;
	k2.bytes[5] ^= 1;
	new_session(&other, &k2, CRYPTO_TO_SERVER);
	REQUIRE(crypto_seal(srv, msg, 10, dg, sizeof dg, &n, &seq) == 0);
	CHECK_EQ_INT(crypto_open(other, dg, n, back, sizeof back, &m, &rseq),
	             CRYPTO_EAUTH);
	crypto_session_free(other);
	crypto_session_free(cli);
	crypto_session_free(srv);
}

/* Flip every bit of a sealed datagram, one at a time: nonce, ciphertext
 * and tag. Every flip must be rejected, and no plaintext handed out. */
TEST(tamper_every_bit_rejected)
{
	struct crypto_key k;
	struct crypto_session *cli = NULL, *srv = NULL;
	unsigned char msg[48], dg[128], back[128];
	size_t n = 0, m = 0;
	uint64_t seq = 0, rseq = 0;
	int accepted = 0, leaked = 0;

	REQUIRE(crypto_key_generate(&k) == CRYPTO_OK);
	new_session(&cli, &k, CRYPTO_TO_SERVER);
	new_session(&srv, &k, CRYPTO_TO_CLIENT);
	REQUIRE(cli && srv);
	memset(msg, 'p', sizeof msg);
	REQUIRE(crypto_session_skip_to(cli, 12345) == 0);
	REQUIRE(crypto_seal(cli, msg, sizeof msg, dg, sizeof dg, &n, &seq) == 0);
	for (size_t bit = 0; bit < 8 * n; bit++) {
		dg[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		memset(back, 0, sizeof back);
		int rc = crypto_open(srv, dg, n, back, sizeof back, &m, &rseq);
		if (rc == CRYPTO_OK)
			accepted++;
		if (memchr(back, 'p', sizeof back) != NULL)
			leaked++;
		dg[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	CHECK_EQ_INT(accepted, 0);
	CHECK_EQ_INT(leaked, 0);
	/* The untouched datagram still opens. */
	CHECK_EQ_INT(crypto_open(srv, dg, n, back, sizeof back, &m, &rseq), 0);
	CHECK_EQ_INT(rseq, 12345);
	crypto_session_free(cli);
	crypto_session_free(srv);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* 4 million packets in each direction under one key: every wire nonce
 * distinct, within and across directions. */
TEST(nonce_unique_4m_each_direction)
{
	enum { PER_DIR = 4u << 20 };
	struct crypto_key k;
	struct crypto_session *s[2] = { NULL, NULL };
	uint64_t *seen = malloc(2 * (size_t)PER_DIR * sizeof *seen);
	unsigned char pt[1] = { 'x' }, dg[64];
	size_t n = 0, dups = 0, bad_dir = 0;

	REQUIRE(seen != NULL);
	REQUIRE(crypto_key_generate(&k) == CRYPTO_OK);
	new_session(&s[0], &k, CRYPTO_TO_SERVER);
	new_session(&s[1], &k, CRYPTO_TO_CLIENT);
	REQUIRE(s[0] && s[1]);
	for (int d = 0; d < 2; d++) {
		for (size_t i = 0; i < PER_DIR; i++) {
			if (crypto_seal(s[d], pt, 1, dg, sizeof dg, &n, NULL) != 0) {
				test_fail_(__FILE__, __LINE__, "seal %zu failed", i);
				goto out;
			}
			uint64_t v = 0;
			for (int b = 0; b < 8; b++)
				v = v << 8 | dg[b];
			if ((int)(v >> 63) != d)
				bad_dir++;
			seen[(size_t)d * PER_DIR + i] = v;
		}
	}
	qsort(seen, 2 * (size_t)PER_DIR, sizeof *seen, cmp_u64);
	for (size_t i = 1; i < 2 * (size_t)PER_DIR; i++)
		if (seen[i] == seen[i - 1])
			dups++;
	CHECK_EQ_INT(dups, 0);
	CHECK_EQ_INT(bad_dir, 0);
	CHECK_EQ_INT(crypto_session_next_seq(s[0]), PER_DIR);
out:
	free(seen);
	crypto_session_free(s[0]);
	crypto_session_free(s[1]);
}

TEST(counter_refuses_to_wrap)
{
	struct crypto_key k;
	struct crypto_session *s = NULL, *r = NULL;
	unsigned char dg[64], back[64];
	size_t n = 0, m = 0;
	uint64_t seq = 0, rseq = 0;

	REQUIRE(crypto_key_generate(&k) == CRYPTO_OK);
	new_session(&s, &k, CRYPTO_TO_CLIENT);
	new_session(&r, &k, CRYPTO_TO_SERVER);
	REQUIRE(s && r);
	REQUIRE(crypto_session_skip_to(s, CRYPTO_SEQ_MAX - 1) == 0);
	CHECK_EQ_INT(crypto_seal(s, dg, 4, dg + 4, 40, &n, &seq), 0);
	CHECK(seq == CRYPTO_SEQ_MAX - 1);
	CHECK_EQ_INT(crypto_seal(s, dg, 4, dg + 4, 40, &n, &seq), 0);
	CHECK(seq == CRYPTO_SEQ_MAX);
	CHECK_EQ_INT(crypto_open(r, dg + 4, n, back, sizeof back, &m, &rseq), 0);
	CHECK(rseq == CRYPTO_SEQ_MAX);
	/* The last number is spent: no more packets, ever. */
	CHECK_EQ_INT(crypto_seal(s, dg, 4, dg + 4, 40, &n, &seq),
	             CRYPTO_EEXHAUSTED);
	CHECK_EQ_INT(crypto_seal(s, dg, 4, dg + 4, 40, &n, &seq),
	             CRYPTO_EEXHAUSTED);
	/* The counter cannot be moved back to reuse a nonce, or past the end. */
	CHECK_EQ_INT(crypto_session_skip_to(s, 5), CRYPTO_EINVAL);
	CHECK_EQ_INT(crypto_session_skip_to(r, CRYPTO_SEQ_MAX + 2), CRYPTO_EINVAL);
	crypto_session_free(s);
	crypto_session_free(r);
}

TEST(base64_known_and_round_trip)
{
	struct crypto_key k, back;
	char text[CRYPTO_KEY_B64_LEN + 1];

	for (int i = 0; i < 16; i++)
		k.bytes[i] = (uint8_t)i;
	crypto_key_encode(&k, text);
	CHECK_EQ_STR(text, "AAECAwQFBgcICQoLDA0ODw");
	for (int i = 0; i < 16; i++)
		k.bytes[i] = (uint8_t)(240 + i);
	crypto_key_encode(&k, text);
	CHECK_EQ_STR(text, "8PHy8/T19vf4+fr7/P3+/w");
	for (int round = 0; round < 10000; round++) {
		REQUIRE(crypto_key_generate(&k) == 0);
		crypto_key_encode(&k, text);
		CHECK_EQ_INT(strlen(text), 22);
		REQUIRE(crypto_key_decode(&back, text) == 0);
		CHECK(memcmp(&k, &back, sizeof k) == 0);
	}
}

TEST(base64_rejections)
{
	static const char good[] = "AAECAwQFBgcICQoLDA0ODw";
	static const char *const bad[] = {
		"", "A", "AAECAwQFBgcICQoLDA0OD", /* too short */
		"AAECAwQFBgcICQoLDA0ODwA",        /* too long */
		"AAECAwQFBgcICQoLDA0ODw==",       /* padding */
		"AAECAwQFBgcICQoLDA0ODx",         /* non-canonical tail bits */
		"AAECAwQFBgcICQoLDA0ODB",         /* non-canonical tail bits */
		"AAECAwQFBgcICQoLDA0OD/",
		" AECAwQFBgcICQoLDA0ODw",
		"AAECAwQFBgcICQoLDA0OD\n",
	};
	static const char badchars[] = "=-_ .\t\n*\x80\xff~";
	struct crypto_key k, before;
	char text[40];

	memset(&k, 0xa5, sizeof k);
	before = k;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECKF(crypto_key_decode(&k, bad[i]) == CRYPTO_EINVAL,
		       "accepted \"%s\"", bad[i]);
		CHECK(memcmp(&k, &before, sizeof k) == 0);
	}
	/* Every position, every bad character. */
	for (size_t pos = 0; pos < 22; pos++) {
		for (size_t c = 0; c < sizeof badchars - 1; c++) {
			memcpy(text, good, sizeof good);
			text[pos] = badchars[c];
			CHECKF(crypto_key_decode(&k, text) == CRYPTO_EINVAL,
			       "accepted bad char 0x%02x at %zu",
			       (unsigned char)badchars[c], pos);
		}
	}
	/* An embedded NUL makes it short. */
	memcpy(text, good, sizeof good);
	text[10] = '\0';
	CHECK_EQ_INT(crypto_key_decode(&k, text), CRYPTO_EINVAL);
	CHECK_EQ_INT(crypto_key_decode(&k, NULL), CRYPTO_EINVAL);
	CHECK_EQ_INT(crypto_key_decode(NULL, good), CRYPTO_EINVAL);
	CHECK(memcmp(&k, &before, sizeof k) == 0);
	CHECK_EQ_INT(crypto_key_decode(&k, good), 0);
}

TEST(keys_are_random_and_wipe_zeroes)
{
	struct crypto_key a, b;
	unsigned char buf[64];

	REQUIRE(crypto_key_generate(&a) == 0);
	REQUIRE(crypto_key_generate(&b) == 0);
	CHECK(memcmp(&a, &b, sizeof a) != 0);
	memset(buf, 0x5a, sizeof buf);
	crypto_wipe(buf, sizeof buf);
	for (size_t i = 0; i < sizeof buf; i++)
		CHECK(buf[i] == 0);
	CHECK(crypto_random(buf, 0) == 0);
	CHECK(crypto_random(NULL, 4) == CRYPTO_EINVAL);
}

static const struct test tests[] = {
	TEST_ENTRY(gcm_backend_published_vectors),
	TEST_ENTRY(seal_published_vectors_zero_nonce),
	TEST_ENTRY(seal_moshi_nonce_layout),
	TEST_ENTRY(open_round_trip_and_errors),
	TEST_ENTRY(tamper_every_bit_rejected),
	TEST_ENTRY(nonce_unique_4m_each_direction),
	TEST_ENTRY(counter_refuses_to_wrap),
	TEST_ENTRY(base64_known_and_round_trip),
	TEST_ENTRY(base64_rejections),
	TEST_ENTRY(keys_are_random_and_wipe_zeroes),
};

TEST_MAIN("crypto", tests)
