/* Fuzz target: the instruction decoder and fragment reassembly. The input
 * is decoded as one instruction, then cut into fragments (2-byte lengths)
 * fed to one reassembly; whatever completes is decoded too. A decoded
 * instruction re-encodes to something that decodes the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ssp/ssp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const uint8_t *d, size_t n)
{
	struct ssp_instruction in, again;
	if (ssp_instruction_decode(&in, d, n) != SSP_OK)
		return;
	struct ssp_writer w = { 0 };
	in.chaff_len = 0;
	if (ssp_instruction_encode(&in, &w) == SSP_OK && ssp_writer_status(&w) == SSP_OK) {
		if (ssp_instruction_decode(&again, w.data, w.len) != SSP_OK ||
		    again.old_num != in.old_num || again.new_num != in.new_num ||
		    again.ack_num != in.ack_num || again.throwaway_num != in.throwaway_num ||
		    again.diff_len != in.diff_len ||
		    (in.diff_len && memcmp(again.diff, in.diff, in.diff_len) != 0))
			abort();
	}
	ssp_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(data, size);
	struct ssp_reassembly *ra = ssp_reassembly_new();
	if (ra == NULL)
		return 0;
	while (size >= 2) {
		size_t n = (size_t)(data[0] << 8 | data[1]) % 1500;
		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		const uint8_t *whole;
		size_t len;
		if (ssp_reassembly_add(ra, data, n, &whole, &len) == 1)
			decode(whole, len);
		data += n;
		size -= n;
	}
	ssp_reassembly_free(ra);
	return 0;
}
