/* Unit tests for util/: err, buf, decimal, duration. */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../util/err.h"
#include "../../util/buf.h"
#include "../../util/decimal.h"
#include "../../util/duration.h"
#include "../../util/suggest.h"

static void test_err_first_wins(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(err_set(&e, ERR_INVALID, "first %d", 1), ERR_INVALID);
	assert_int_equal(err_set(&e, ERR_NET, "second"), ERR_NET);
	assert_int_equal(e.code, ERR_INVALID);
	assert_string_equal(e.msg, "first 1");
	err_clear(&e);
	assert_false(err_isset(&e));
}

static void test_err_location_and_api(void **state)
{
	struct err e = ERR_INIT, c = ERR_INIT;

	(void)state;
	err_set_at(&e, ERR_INVALID, "a.yaml", 3, 7, "spec.pools[1].zone", "bad zone");
	err_set_api(&e, "InvalidZone.MismatchRegion", "zone", "req-1", ERR_CLASS_INVALID);
	err_copy(&c, &e);
	err_clear(&e);
	assert_string_equal(c.file, "a.yaml");
	assert_int_equal(c.line, 3);
	assert_int_equal(c.col, 7);
	assert_string_equal(c.path, "spec.pools[1].zone");
	assert_string_equal(c.api_code, "InvalidZone.MismatchRegion");
	assert_string_equal(c.request_id, "req-1");
	err_clear(&c);
}

static void test_errlist_sorted(void **state)
{
	struct errlist l = ERRLIST_INIT;

	(void)state;
	errlist_add(&l, ERR_INVALID, "b.yaml", 1, 1, NULL, "b");
	errlist_add(&l, ERR_INVALID, "a.yaml", 9, 2, NULL, "a9");
	errlist_add(&l, ERR_INVALID, "a.yaml", 2, 5, NULL, "a2");
	errlist_sort(&l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].msg, "a2");
	assert_string_equal(l.v[1].msg, "a9");
	assert_string_equal(l.v[2].msg, "b");
	errlist_clear(&l);
}

static void test_buf_bounded(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "abcd"), 0);
	assert_int_equal(buf_printf(&b, "%d", 123), 0);
	assert_string_equal(buf_str(&b), "abcd123");
	assert_int_equal(buf_puts(&b, "xy"), ERR_TOOBIG);
	assert_string_equal(buf_str(&b), "abcd123");
	assert_int_equal(b.len, 7);
	buf_release(&b);
	assert_string_equal(buf_str(&b), "");
}

static void test_decimal(void **state)
{
	dec_t v;
	char s[40];
	char *n;

	(void)state;
	assert_int_equal(dec_parse("0.60", &v), 0);
	assert_true(v == 600000000LL);
	assert_string_equal(dec_format(s, sizeof(s), v, 2), "0.60");
	assert_string_equal(dec_format(s, sizeof(s), dec_mul_int(v, 3), 2), "1.80");
	assert_string_equal(dec_format(s, sizeof(s), 123456789LL, 2), "0.123456789");
	assert_int_equal(dec_cmp_str("0.6", "0.60"), 0);
	assert_true(dec_cmp_str("0.59", "0.6") < 0);
	assert_true(dec_cmp_str("10", "9.99") > 0);
	assert_false(dec_valid("-1"));
	assert_false(dec_valid("1e3"));
	assert_false(dec_valid("."));
	assert_false(dec_valid("0.1234567891"));
	assert_true(dec_valid(".5"));
	n = dec_normalize("00.50");
	assert_string_equal(n, "0.50");
	free(n);
	n = dec_normalize(".5");
	assert_string_equal(n, "0.5");
	free(n);
}

static void test_duration(void **state)
{
	int64_t ms = 0;
	char s[32];

	(void)state;
	assert_int_equal(duration_parse("1h30m", &ms), 0);
	assert_true(ms == 5400000);
	assert_int_equal(duration_parse("250ms", &ms), 0);
	assert_true(ms == 250);
	assert_int_equal(duration_parse("90s", &ms), 0);
	assert_true(ms == 90000);
	assert_int_equal(duration_parse("5", &ms), ERR_INVALID);
	assert_int_equal(duration_parse("m", &ms), ERR_INVALID);
	assert_int_equal(duration_parse("", &ms), ERR_INVALID);
	assert_string_equal(duration_format(s, sizeof(s), 90000), "1m30s");
}

static void test_suggest(void **state)
{
	const char *keys[] = { "capacity", "maxPrice", "image", "pools", "region" };
	const char *cmds[] = { "apply", "plan", "status", "show" };

	(void)state;
	assert_string_equal(suggest_closest("capcity", keys, 5), "capacity");
	assert_string_equal(suggest_closest("max_price", keys, 5), "maxPrice");
	assert_string_equal(suggest_closest("MAXPRICE", keys, 5), "maxPrice");
	assert_string_equal(suggest_closest("imgae", keys, 5), "image");
	assert_null(suggest_closest("zone", keys, 5));
	assert_string_equal(suggest_closest("aply", cmds, 4), "apply");
	assert_string_equal(suggest_closest("stauts", cmds, 4), "status");
	assert_null(suggest_closest("destroy", cmds, 4));
	assert_null(suggest_closest("", cmds, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_first_wins),
		cmocka_unit_test(test_err_location_and_api),
		cmocka_unit_test(test_errlist_sorted),
		cmocka_unit_test(test_buf_bounded),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_suggest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
