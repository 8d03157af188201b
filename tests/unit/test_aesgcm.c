#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "crypto/aesgcm.h"

static const unsigned char key0[32];

/* GCM spec test case 14: K = 0^256, IV = 0^96, P = 0^128, no AAD. */
static void
test_aesgcm_open_known_answer(void **state)
{
	unsigned char in[AESGCM_IV_LEN + 16 + AESGCM_TAG_LEN] = {0}, *out;
	unsigned char ct[16], tag[16], zero[16] = {0};
	size_t n;

	(void)state;
	assert_int_equal(wg_hex_decode("cea7403d4d606b6e074ec5d3baf39d18",
	    ct, sizeof(ct)), 0);
	assert_int_equal(wg_hex_decode("d0d1c8a799996bf0265b98b5d48ab919",
	    tag, sizeof(tag)), 0);
	memcpy(in + AESGCM_IV_LEN, ct, 16);
	memcpy(in + AESGCM_IV_LEN + 16, tag, 16);
	assert_int_equal(aesgcm_open(key0, in, sizeof(in), &out, &n), WG_OK);
	assert_int_equal(n, 16);
	assert_memory_equal(out, zero, 16);
	free(out);
}

static void
test_aesgcm_seal_round_trip_and_refusals(void **state)
{
	unsigned char key[32], *sealed, *again, *out;
	size_t n, m;

	(void)state;
	memset(key, 7, sizeof(key));
	assert_int_equal(aesgcm_seal(key, (const unsigned char *)"cert", 4,
	    &sealed, &n), WG_OK);
	assert_int_equal(n, 4 + AESGCM_OVERHEAD);
	assert_int_equal(aesgcm_seal(key, (const unsigned char *)"cert", 4,
	    &again, &m), WG_OK);
	assert_memory_not_equal(sealed, again, AESGCM_IV_LEN); /* fresh IV */
	assert_int_equal(aesgcm_open(key, sealed, n, &out, &m), WG_OK);
	assert_int_equal(m, 4);
	assert_memory_equal(out, "cert", 4);
	free(out);
	assert_int_equal(aesgcm_open(key0, sealed, n, &out, &m), WG_E_CRYPTO);
	assert_null(out);
	sealed[n - 1] ^= 1;
	assert_int_equal(aesgcm_open(key, sealed, n, &out, &m), WG_E_CRYPTO);
	assert_int_equal(aesgcm_open(key, sealed, AESGCM_OVERHEAD - 1, &out,
	    &m), WG_E_CRYPTO);
	free(sealed);
	free(again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aesgcm_open_known_answer),
		cmocka_unit_test(test_aesgcm_seal_round_trip_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
