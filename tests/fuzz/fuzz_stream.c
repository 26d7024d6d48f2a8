/* Fuzz target: the stream carrier's frame reader (ssp/stream.c). The
 * input arrives on a socket, as from a peer (with a preamble to hunt
 * for when its first byte is odd); every frame read is within the bound
 * and the reader ends. Then the datagrams the input cuts out (2-byte
 * lengths) are written as frames and read back the same. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../ssp/ssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const uint8_t *data, size_t size)
{
	int sp[2];
	struct ssp_stream *s;
	uint8_t dg[SSP_MAX_DATAGRAM];
	size_t n;
	if (size > 32768)
		size = 32768; /* within what a socket holds unread */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
		return;
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	if (write(sp[1], data, size) != (ssize_t)size) {
		close(sp[0]);
		close(sp[1]);
		return;
	}
	close(sp[1]);
	if (ssp_stream_new(&s, sp[0], sp[0], size && (data[0] & 1) ? "MOSHI RELAY\n" : NULL) !=
	    SSP_OK) {
		close(sp[0]);
		return;
	}
	for (int i = 0; i < 100000; i++) {
		int rc = ssp_stream_read(s, dg, sizeof dg, &n);
		if (rc == SSP_OK && n > SSP_MAX_DATAGRAM)
			abort();
		if (rc != SSP_OK)
			break;
	}
	ssp_stream_free(s);
}

static void round_trip(const uint8_t *data, size_t size)
{
	int sp[2];
	struct ssp_stream *w, *r;
	uint8_t dg[SSP_MAX_DATAGRAM];
	size_t n;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) < 0)
		return;
	if (ssp_stream_new(&w, sp[0], sp[0], NULL) != SSP_OK) {
		close(sp[0]);
		close(sp[1]);
		return;
	}
	if (ssp_stream_new(&r, sp[1], sp[1], NULL) != SSP_OK) {
		close(sp[1]);
		ssp_stream_free(w);
		return;
	}
	while (size >= 2) {
		size_t len = (size_t)(data[0] << 8 | data[1]) % (SSP_MAX_DATAGRAM + 1);
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (ssp_stream_write(w, data, len) != SSP_OK)
			abort(); /* one frame into an empty socket always fits */
		if (ssp_stream_read(r, dg, sizeof dg, &n) != SSP_OK || n != len ||
		    memcmp(dg, data, len) != 0)
			abort();
		data += len;
		size -= len;
	}
	ssp_stream_free(w);
	ssp_stream_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_all(data, size);
	round_trip(data, size);
	return 0;
}
