/*
 * escape.h - text from outside made safe to print on a terminal.
 *
 * API error messages and codes, RequestIds, names from spec and plan files:
 * anything spotenv did not write itself may hold an OSC title sequence, a
 * clear-screen or a carriage return that forges a line, and may be any
 * length.  Before it reaches a terminal it goes through esc_put(): control
 * characters become '?' (as the plan renderers in planner/render.c show
 * them), and it is cut to a length with "..." after it.
 *
 * Control characters are C0 (0x00-0x1f), DEL (0x7f) and C1 (U+0080 to
 * U+009F, which some terminals obey as ESC sequences); a byte that is not
 * part of valid UTF-8 is shown as '?' too, so the output is always valid
 * UTF-8.  Other text, printable UTF-8 included, passes unchanged.
 */
#ifndef SPOTENV_ESCAPE_H
#define SPOTENV_ESCAPE_H

#include "setup.h"
#include "buf.h"

/* How much of one outside string is printed (bytes, before "..."). */
#define ESC_MAX 512

/*
 * Append s (NULL prints "(null)") to out escaped, keeping at most max bytes
 * of it (never splitting a character) and adding "..." when something was
 * cut.  0 or ERR_TOOBIG (out's cap).
 */
int esc_put(struct buf *out, const char *s, size_t max);
/* The same for the first len bytes of s (which may hold NULs: shown as '?'). */
int esc_put_len(struct buf *out, const char *s, size_t len, size_t max);

/*
 * printf into out where every %s argument goes through esc_put(max) (after
 * its precision, before its width); the format's own text and the other
 * conversions are printed as they are, so a format may hold newlines or
 * the ANSI sequences spotenv draws with.  Conversions: d i u o x X c s p
 * f F e E g G a A and %%, with flags, width and precision (also *) and the
 * length modifiers hh h l ll j z t L.  0, ERR_TOOBIG or ERR_INVALID for a
 * conversion it does not know (which is a bug in the caller).
 */
int esc_vprintf(struct buf *out, size_t max, const char *fmt, va_list ap)
	SPOTENV_PRINTF(3, 0);
int esc_printf(struct buf *out, size_t max, const char *fmt, ...) SPOTENV_PRINTF(3, 4);

#endif
