/* Unit tests for util/escape.c: outside text made safe to print. */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../util/err.h"
#include "../../util/buf.h"
#include "../../util/escape.h"

static void expect_put(const char *in, size_t max, const char *want)
{
	struct buf b = BUF_INIT;

	assert_int_equal(esc_put(&b, in, max), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_escape_controls(void **state)
{
	(void)state;
	expect_put("plain text", 512, "plain text");
	/* an OSC title sequence and a clear-screen */
	expect_put("\033]0;pwned\007\033[2J\033[H", 512, "?]0;pwned??[2J?[H");
	expect_put("a\rb\nc\td\x7f", 512, "a?b?c?d?");
	/* C1 controls as UTF-8 (U+009B is CSI), printable UTF-8 untouched */
	expect_put("x\xc2\x9b"
		   "31m\xc2\xa0"
		   "\xc3\xa9\xe4\xb8\xad",
		   512, "x?31m\xc2\xa0\xc3\xa9\xe4\xb8\xad");
	/* invalid UTF-8: a stray continuation, an overlong '/', a surrogate */
	expect_put("\x80"
		   "a\xc0\xaf"
		   "b\xed\xa0\x80",
		   512, "?a??b???");
	expect_put(NULL, 512, "(null)");
}

static void test_escape_cut(void **state)
{
	char *big = xmalloc(200001);

	(void)state;
	memset(big, 'm', 200000);
	big[200000] = '\0';
	{
		struct buf b = BUF_INIT;

		assert_int_equal(esc_put(&b, big, ESC_MAX), 0);
		assert_int_equal(b.len, ESC_MAX + 3);
		assert_string_equal(buf_str(&b) + ESC_MAX, "...");
		buf_release(&b);
	}
	free(big);
	expect_put("abcdef", 6, "abcdef");
	expect_put("abcdefg", 6, "abcdef...");
	/* never half a character */
	expect_put("ab\xc3\xa9", 3, "ab...");
	expect_put("ab\xc3\xa9", 4, "ab\xc3\xa9");
}

static void expect_fmt(const char *want, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void expect_fmt(const char *want, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	assert_int_equal(esc_vprintf(&b, 8, fmt, ap), 0);
	va_end(ap);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_escape_printf(void **state)
{
	(void)state;
	/* %s escaped and cut; the format's own newline and ESC kept */
	expect_fmt("\033[2Kname 'a?b': 3\n", "\033[2Kname '%s': %d\n", "a\033b", 3);
	expect_fmt("x 'abcdefgh...' y", "x '%s' y", "abcdefghijk");
	/* widths and precision around %s, also from arguments */
	expect_fmt("[  ab][ab  ][abc]", "[%4s][%-4s][%.3s]", "ab", "ab", "abcdef");
	expect_fmt("[   ab][ab   ][ab]", "[%*s][%*s][%.*s]", 5, "ab", -5, "ab", 2, "abc");
	/* the other conversions with their types */
	expect_fmt("-7 42 ff 0x1f 3000000000 18446744073709551615 2.50 x %",
		   "%d %u %x %#x %ld %llu %.2f %c %%", -7, 42u, 255u, 31u, 3000000000L,
		   (unsigned long long)UINT64_MAX, 2.5, 'x');
	expect_fmt("5 -3 007 +4", "%zu %zd %03d %+d", (size_t)5, (ssize_t)-3, 7, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_escape_cut),
		cmocka_unit_test(test_escape_printf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
