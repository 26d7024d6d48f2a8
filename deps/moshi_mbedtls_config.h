/*
 * moshi's mbedTLS 2.28 configuration: only AES-128-GCM and what it needs.
 *
 * Passed to mbedTLS with -DMBEDTLS_CONFIG_FILE. Everything not listed here
 * (TLS, X.509, bignum, entropy, the PSA layer, file I/O) is left out, which
 * keeps the static binary small and the attack surface to the one cipher
 * moshi uses.
 */
#ifndef MOSHI_MBEDTLS_CONFIG_H
#define MOSHI_MBEDTLS_CONFIG_H

/* AES-NI (and PCLMULQDQ for GHASH) is used when the CPU has it; mbedTLS
 * checks CPUID at run time and falls back to portable C otherwise. */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_AESNI_C

#define MBEDTLS_AES_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_GCM_C

/* The table-based AES is faster than the ROM-table variant; keep it. */
#define MBEDTLS_AES_FEWER_TABLES

#include "mbedtls/check_config.h"

#endif
