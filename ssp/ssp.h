/*
 * ssp/ — the State Synchronization Protocol: moshi's two objects (the
 * user's input stream and the terminal screen) kept in sync over UDP.
 *
 * Layers, bottom up:
 *   wire      one bounds-checked reader for every network byte; the
 *             instruction format; fragments and their reassembly
 *   datagram  sealed UDP datagrams with timestamps (RTT), roaming,
 *             counters of everything dropped
 *
 * Nothing here knows about roles. Functions return 0 or a negative
 * SSP_E* code and never exit: a hostile packet is dropped and counted.
 */
#ifndef MOSHI_SSP_H
#define MOSHI_SSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ssp_error {
	SSP_OK = 0,
	SSP_EMALFORMED = -1, /* bytes that do not parse: dropped */
	SSP_ETOOBIG = -2,    /* over a documented bound: dropped */
	SSP_ENOMEM = -3,
	SSP_EINVAL = -4,     /* a caller's mistake */
	SSP_EVERSION = -5,   /* another protocol version */
	SSP_EAGAIN = -6,     /* nothing (more) to do now */
	SSP_ESYSTEM = -7,    /* a system call failed; errno says why */
	SSP_ECRYPTO = -8,    /* forged, corrupted or reflected */
	SSP_EREPLAY = -9,    /* authentic but already seen, or too old */
};

const char *ssp_strerror(int err);

/* ---- wire: the one checked reader ------------------------------------ */

/* Every byte that comes from the network is read through this: each
 * getter checks the length first, consumes only on success, and leaves
 * the reader unchanged on failure. */
struct ssp_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
};

void ssp_reader_init(struct ssp_reader *r, const void *data, size_t len);
size_t ssp_reader_left(const struct ssp_reader *r);
int ssp_get_u8(struct ssp_reader *r, uint8_t *v);
int ssp_get_u16(struct ssp_reader *r, uint16_t *v);   /* big-endian */
int ssp_get_u64(struct ssp_reader *r, uint64_t *v);   /* big-endian */
/* LEB128, at most 10 bytes, minimal encoding only. */
int ssp_get_varint(struct ssp_reader *r, uint64_t *v);
/* n bytes in place: *p points into the reader's data. */
int ssp_get_bytes(struct ssp_reader *r, size_t n, const uint8_t **p);

/* A growable writer. On allocation failure it stops growing and
 * remembers the failure; ssp_writer_status reports it. */
struct ssp_writer {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed;
};

void ssp_put_u8(struct ssp_writer *w, uint8_t v);
void ssp_put_u16(struct ssp_writer *w, uint16_t v);
void ssp_put_u64(struct ssp_writer *w, uint64_t v);
void ssp_put_varint(struct ssp_writer *w, uint64_t v);
void ssp_put_bytes(struct ssp_writer *w, const void *p, size_t n);
int ssp_writer_status(const struct ssp_writer *w);
void ssp_writer_free(struct ssp_writer *w);

/* ---- wire: instructions ---------------------------------------------- */

#define SSP_PROTOCOL_VERSION 1
/* Bounds on what a receiver accepts. */
#define SSP_MAX_DIFF (4u << 20)     /* bytes of diff in one instruction */
#define SSP_MAX_CHAFF 16            /* bytes of chaff */
/* new_num of the shutdown instruction. */
#define SSP_SHUTDOWN_NUM UINT64_MAX

/* What one side sends the other: "to go from state old_num to new_num,
 * apply diff; I have your state ack_num; I no longer hold states below
 * throwaway_num". diff points into the buffer it was decoded from. */
struct ssp_instruction {
	uint64_t old_num;
	uint64_t new_num;
	uint64_t ack_num;
	uint64_t throwaway_num;
	const uint8_t *diff;
	size_t diff_len;
	uint8_t chaff_len;
};

/* Append the encoding of in (with chaff_len random bytes of chaff). */
int ssp_instruction_encode(const struct ssp_instruction *in,
                           struct ssp_writer *w);
/* Decode exactly data[0..len): trailing bytes, a wrong version, or any
 * bound exceeded is an error and out is not to be used. */
int ssp_instruction_decode(struct ssp_instruction *out, const uint8_t *data,
                           size_t len);

/* ---- wire: fragments ------------------------------------------------- */

/* A fragment: varint instruction id, u16 (final << 15 | index), payload.
 * An instruction travels as fragments 0..n-1, the last one marked final. */
#define SSP_MAX_FRAGMENTS 4096      /* per instruction */
#define SSP_MAX_INSTRUCTION (SSP_MAX_DIFF + 64) /* reassembled bytes */
#define SSP_FRAGMENT_HEADER_MAX 12  /* varint id (10) + u16 */

/* Split data into fragments of at most `mtu` bytes each (header
 * included), appending each as a separate buffer through emit(). */
int ssp_fragment(uint64_t id, const uint8_t *data, size_t len, size_t mtu,
                 int (*emit)(void *ctx, const uint8_t *frag, size_t n),
                 void *ctx);

/* Reassembly: one instruction at a time, the newest id wins; fragments of
 * older ids, duplicates and conflicting lengths are dropped. Bounded by
 * SSP_MAX_FRAGMENTS and SSP_MAX_INSTRUCTION. */
struct ssp_reassembly;

struct ssp_reassembly *ssp_reassembly_new(void);
void ssp_reassembly_free(struct ssp_reassembly *ra);
/* Add one fragment. Returns 1 and sets *data and *len (valid until the next
 * call) when it completes an instruction, 0 when more are needed, or an
 * error for a fragment that was dropped. */
int ssp_reassembly_add(struct ssp_reassembly *ra, const uint8_t *frag,
                       size_t n, const uint8_t **data, size_t *len);

#endif
