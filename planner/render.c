/*
 * render.c - plans for people: Terraform-like text and a Markdown review
 * comment.  Both are built from the same lines so they never disagree.
 */
#include "../util/setup.h"
#include "plan.h"
#include "plan_internal.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"

static const char *plan_plural(int n)
{
	return n == 1 ? "" : "s";
}

/*
 * Everything rendered that came from the world (ids, tags, API messages)
 * goes through these: control characters become '?' so a crafted tag
 * cannot move a terminal's cursor or forge lines, and Markdown gets its
 * special characters escaped so a tag cannot rewrite a review comment.
 */
static void plan_put_text(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		buf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/*
 * Text for Markdown or HTML: control characters shown as '?', the HTML
 * specials as entities, and with markdown also what would format.
 */
static void plan_put_escaped(struct buf *b, const char *s, bool markdown)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			buf_putc(b, '?');
		else if (c == '<')
			buf_puts(b, "&lt;");
		else if (c == '>')
			buf_puts(b, "&gt;");
		else if (c == '&')
			buf_puts(b, "&amp;");
		else if (markdown && strchr("\\`*_[]|#!~", c))
			buf_printf(b, "\\%c", c);
		else
			buf_putc(b, (char)c);
	}
}

/* Markdown inline text: also escape what would format or open HTML. */
static void plan_put_md(struct buf *b, const char *s)
{
	plan_put_escaped(b, s, true);
}

/* Text inside HTML (the <summary> line): entities only. */
static void plan_put_html(struct buf *b, const char *s)
{
	plan_put_escaped(b, s, false);
}

/* A name as `code` when it is plain, else as escaped text. */
static void plan_put_md_name(struct buf *b, const char *s)
{
	if (s && *s &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789.:/-") == strlen(s))
		buf_printf(b, "`%s`", s);
	else
		plan_put_md(b, s ? s : "");
}

/* A line inside a ``` block: no control characters, no backticks. */
static void plan_put_code(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_putc(b, c < 0x20 || c == 0x7f ? '?' : c == '`' ? '\'' : (char)c);
	}
}

int plan_render_closing(struct buf *out, const struct plan *p)
{
	struct plan_totals t;

	plan_totals(p, &t);
	if (plan_has_changes(p))
		return buf_printf(out,
				  "Plan: %d to launch, %d to release, %d to replace.",
				  t.launch, t.release, t.replace);
	if (t.converged == t.envs)
		return buf_printf(out, "No changes. %d environment%s converged.", t.envs,
				  plan_plural(t.envs));
	return buf_printf(out, "No changes. %d of %d environment%s converged.",
			  t.converged, t.envs, plan_plural(t.envs));
}

/* "0.26/hour -> 0.39/hour" (a decimal each, checked when read from a file) */
static void plan_put_cost(struct buf *b, const char *before, const char *after)
{
	plan_put_text(b, before ? before : "?");
	buf_puts(b, "/hour -> ");
	plan_put_text(b, after ? after : "?");
	buf_puts(b, "/hour");
}

static void plan_put_total_cost(struct buf *b, const struct plan *p)
{
	char before[32], after[32];

	plan_total_cost(p, before, after, sizeof(before));
	plan_put_cost(b, before, after);
}

static int plan_envs_in_error(const struct plan *p)
{
	int n = 0;

	for (size_t i = 0; i < p->nenvs; i++)
		n += p->envs[i].nerrors > 0;
	return n;
}

/* "S5.MEDIUM4 in ap-guangzhou-3 (pool 1), bid 0.50, spot 0.21" */
static void plan_launch_what(struct buf *b, const struct plan_launch *l)
{
	buf_printf(b, "launch %d x %s in %s (pool %d), bid %s, spot %s", l->count,
		   l->type, l->zone, l->pool + 1, l->bid,
		   l->price ? l->price : "unknown");
	if (l->replace)
		buf_puts(b, ": replaces drifted");
	if (l->check && !strcmp(l->check, "ok"))
		buf_puts(b, " [dry run ok]");
	else if (l->check)
		buf_printf(b, " [dry run failed: %s%s%s]", l->check,
			   l->check_message ? ": " : "",
			   l->check_message ? l->check_message : "");
}

/* "ins-abc (S5.MEDIUM4 ap-guangzhou-3, STOPPED): failed: state STOPPED" */
static void plan_release_what(struct buf *b, const struct plan_release *r)
{
	buf_printf(b, "release %s (%s %s, %s): %s", r->id, r->type ? r->type : "?",
		   r->zone ? r->zone : "?", r->state ? r->state : "?",
		   plan_reason_name(r->reason));
	if (r->detail)
		buf_printf(b, ": %s", r->detail);
}

/* The action lines of an environment: symbol and text, one per entry. */
struct plan_line {
	char sym; /* '+', '-', '~' */
	char *text;
};

static size_t plan_env_lines(const struct plan_env *pe, struct plan_line **out)
{
	struct plan_line *v = xcalloc(pe->nlaunches + pe->nreleases + 1, sizeof(*v));
	size_t n = 0;
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < pe->nlaunches; i++) {
		buf_reset(&b);
		plan_launch_what(&b, &pe->launches[i]);
		v[n].sym = pe->launches[i].replace ? '~' : '+';
		v[n++].text = xstrdup(buf_str(&b));
	}
	for (size_t i = 0; i < pe->nreleases; i++) {
		buf_reset(&b);
		plan_release_what(&b, &pe->releases[i]);
		v[n].sym = pe->releases[i].reason == PLAN_REASON_DRIFT ? '~' : '-';
		v[n++].text = xstrdup(buf_str(&b));
	}
	buf_release(&b);
	*out = v;
	return n;
}

static void plan_lines_free(struct plan_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

/* "4 desired, 2 active, 1 failed, 1 leaving" (zero counts after active left out). */
static void plan_env_counts(struct buf *b, const struct plan_env *pe)
{
	if (!pe->orphan)
		buf_printf(b, "%d desired, ", pe->desired);
	buf_printf(b, "%d active", pe->active);
	if (pe->drifted)
		buf_printf(b, ", %d drifted", pe->drifted);
	if (pe->failed)
		buf_printf(b, ", %d failed", pe->failed);
	if (pe->leaving)
		buf_printf(b, ", %d leaving", pe->leaving);
}

static void plan_env_title(struct buf *b, const struct plan_env *pe)
{
	buf_printf(b, "%s (", pe->name);
	if (pe->orphan)
		buf_puts(b, "orphan, ");
	buf_printf(b, "scope %s", pe->scope ? pe->scope : "-");
	if (pe->region)
		buf_printf(b, ", %s", pe->region);
	if (pe->allocation)
		buf_printf(b, ", %s", pe->allocation);
	buf_puts(b, ")");
}

int plan_render_text(struct buf *out, const struct plan *p, bool color)
{
	const char *bold = color ? C_BOLD : "", *reset = color ? C_RESET : "";
	const char *red = color ? C_RED : "", *green = color ? C_GREEN : "";
	const char *yellow = color ? C_YELLOW : "";
	struct plan_totals t;
	struct buf title = BUF_INIT;
	size_t shown = 0;

	plan_totals(p, &t);
	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *pe = &p->envs[i];
		struct plan_line *lines = NULL;
		size_t n;

		if (!pe->nlaunches && !pe->nreleases && !pe->nwarnings && !pe->nerrors)
			continue;
		if (shown++)
			buf_putc(out, '\n');
		buf_reset(&title);
		plan_env_title(&title, pe);
		buf_printf(out, "%senv ", bold);
		plan_put_text(out, buf_str(&title));
		buf_printf(out, "%s: ", reset);
		plan_env_counts(out, pe);
		buf_putc(out, '\n');
		n = plan_env_lines(pe, &lines);
		for (size_t k = 0; k < n; k++) {
			const char *c = lines[k].sym == '+'   ? green
					: lines[k].sym == '-' ? red
							      : yellow;

			buf_printf(out, "  %s%c%s ", c, lines[k].sym, reset);
			plan_put_text(out, lines[k].text);
			buf_putc(out, '\n');
		}
		plan_lines_free(lines, n);
		for (size_t k = 0; k < pe->nerrors; k++) {
			buf_printf(out, "  %serror:%s ", red, reset);
			plan_put_text(out, pe->errors[k]);
			buf_putc(out, '\n');
		}
		for (size_t k = 0; k < pe->nwarnings; k++) {
			buf_printf(out, "  %swarning:%s ", yellow, reset);
			plan_put_text(out, pe->warnings[k]);
			buf_putc(out, '\n');
		}
		if (!pe->orphan && pe->hourly_cost) {
			buf_puts(out, "  estimated cost: ");
			plan_put_cost(out, pe->hourly_cost_before, pe->hourly_cost);
			buf_putc(out, '\n');
		} else if (pe->orphan && !pe->nreleases && pe->hourly_cost) {
			buf_printf(out, "  still costing: %s/hour\n", pe->hourly_cost);
		}
	}
	buf_release(&title);
	if (shown)
		buf_putc(out, '\n');
	if (t.errors)
		buf_printf(out,
			   "%sError:%s %d environment%s with errors will be skipped by "
			   "apply.\n",
			   red, reset, plan_envs_in_error(p),
			   plan_plural(plan_envs_in_error(p)));
	buf_puts(out, "Estimated cost: ");
	plan_put_total_cost(out, p);
	buf_puts(out, ".\n");
	buf_puts(out, bold);
	plan_render_closing(out, p);
	buf_puts(out, reset);
	return buf_putc(out, '\n');
}

/* UTF-8 characters in s[0..n): every byte that does not continue one. */
static size_t plan_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* A Markdown document that must stay under a number of characters. */
struct plan_md {
	struct buf *out;
	size_t used, limit; /* characters */
	size_t reserve;	    /* kept free for the ending (note, footer) */
	size_t left_out;    /* lines not shown */
};

/*
 * Append piece when it fits with keep characters to spare beyond the
 * reserve; false (nothing appended) otherwise.
 */
static bool plan_md_add_keep(struct plan_md *m, const struct buf *piece, size_t keep)
{
	size_t c = plan_chars(piece->ptr ? piece->ptr : "", piece->len);

	if (m->used + c + keep + m->reserve > m->limit)
		return false;
	buf_put(m->out, piece->ptr ? piece->ptr : "", piece->len);
	m->used += c;
	return true;
}

static bool plan_md_add(struct plan_md *m, const struct buf *piece)
{
	return plan_md_add_keep(m, piece, 0);
}

/* "> - `env`: message" lines under a callout, as many as fit. */
static void plan_md_callout(struct plan_md *m, const struct plan *p, bool errors)
{
	struct buf b = BUF_INIT;
	size_t more = 0;

	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *pe = &p->envs[i];
		size_t n = errors ? pe->nerrors : pe->nwarnings;

		for (size_t k = 0; k < n; k++) {
			buf_reset(&b);
			buf_puts(&b, "> - ");
			plan_put_md_name(&b, pe->name);
			buf_puts(&b, ": ");
			plan_put_md(&b, errors ? pe->errors[k] : pe->warnings[k]);
			buf_putc(&b, '\n');
			if (more || !plan_md_add(m, &b))
				more++;
		}
	}
	if (more) {
		buf_reset(&b);
		buf_printf(&b, "> - ... and %zu more\n", more);
		plan_md_add(m, &b);
		m->left_out += more;
	}
	buf_reset(&b);
	buf_putc(&b, '\n');
	plan_md_add(m, &b);
	buf_release(&b);
}

static void plan_md_row(struct buf *b, const struct plan_env *pe)
{
	buf_puts(b, "| ");
	plan_put_md_name(b, pe->name);
	buf_puts(b, pe->orphan ? " (orphan) | " : " | ");
	plan_put_md(b, pe->scope ? pe->scope : "-");
	buf_puts(b, " | ");
	plan_put_md(b, pe->region ? pe->region : "-");
	buf_printf(b, " | %d | %d | %d | %d | %d | %d | %d | ", pe->desired, pe->active,
		   pe->failed, pe->leaving, pe->to_launch, pe->to_release,
		   pe->to_replace);
	plan_put_md(b, pe->hourly_cost_before ? pe->hourly_cost_before : "-");
	buf_puts(b, " &rarr; ");
	plan_put_md(b, pe->hourly_cost ? pe->hourly_cost : "-");
	buf_printf(b, " | %s |\n",
		   pe->orphan && !pe->nreleases ? "orphan"
						: plan_status_name(pe->status));
}

/*
 * One environment's folded diff: whole when it fits, else as many lines as
 * fit and a count of the rest; false when not even its heading fits.
 */
static bool plan_md_details(struct plan_md *m, const struct plan_env *pe)
{
	static const char end[] = "```\n\n</details>\n\n";
	const size_t keep = 80 + sizeof(end);
	struct plan_line *lines = NULL;
	struct buf b = BUF_INIT, line = BUF_INIT;
	size_t n = plan_env_lines(pe, &lines), k;
	bool ok;

	buf_puts(&b, "<details><summary><code>");
	plan_put_html(&b, pe->name);
	buf_printf(&b,
		   "</code>: %d to launch, %d to release, %d to replace</summary>\n\n"
		   "```diff\n",
		   pe->to_launch, pe->to_release, pe->to_replace);
	/* after the heading and each line, the end and a "more" line must fit */
	ok = plan_md_add_keep(m, &b, keep);
	for (k = 0; ok && k < n; k++) {
		buf_reset(&line);
		buf_printf(&line, "%c ", lines[k].sym == '~' ? '!' : lines[k].sym);
		plan_put_code(&line, lines[k].text);
		buf_putc(&line, '\n');
		if (!plan_md_add_keep(m, &line, keep))
			break;
	}
	if (!ok) {
		m->left_out += n;
	} else {
		if (k < n) {
			buf_reset(&line);
			buf_printf(&line, "# ... %zu more line%s not shown\n", n - k,
				   n - k == 1 ? "" : "s");
			plan_md_add(m, &line);
			m->left_out += n - k;
		}
		buf_reset(&line);
		buf_puts(&line, end);
		plan_md_add(m, &line);
	}
	plan_lines_free(lines, n);
	buf_release(&b);
	buf_release(&line);
	return ok && k == n;
}

int plan_render_markdown(struct buf *out, const struct plan *p)
{
	return plan_render_markdown_limit(out, p, PLAN_MARKDOWN_LIMIT);
}

int plan_render_markdown_limit(struct buf *out, const struct plan *p, size_t limit)
{
	struct plan_totals t;
	struct plan_md m;
	struct buf b = BUF_INIT, foot = BUF_INIT;
	size_t rows_more = 0, envs_cut = 0;
	bool full = true;

	plan_totals(p, &t);
	buf_printf(&foot, "<sub>basis `%.12s`", p->basis ? p->basis : "");
	if (p->observed_at) {
		buf_puts(&foot, ", observed ");
		plan_put_md(&foot, p->observed_at);
	}
	buf_puts(&foot, "</sub>\n");
	/* the footer and the note on what was left out always fit */
	m.out = out;
	m.used = 0;
	m.limit = limit;
	m.reserve = plan_chars(foot.ptr, foot.len) + 300;
	m.left_out = 0;

	/* a hidden marker: CI finds and updates its one sticky comment */
	buf_puts(&b, "<!-- spotenv-plan -->\n### spotenv plan\n\n**");
	plan_render_closing(&b, p);
	buf_puts(&b, "**\n\nEstimated cost: ");
	plan_put_total_cost(&b, p);
	buf_puts(&b, "\n\n");
	plan_md_add(&m, &b);

	if (t.errors) {
		buf_reset(&b);
		buf_printf(&b,
			   "> [!CAUTION]\n> %d environment%s with errors will be skipped "
			   "by apply:\n",
			   plan_envs_in_error(p), plan_plural(plan_envs_in_error(p)));
		plan_md_add(&m, &b);
		plan_md_callout(&m, p, true);
	}
	if (t.warnings) {
		buf_reset(&b);
		buf_puts(&b, "> [!WARNING]\n");
		plan_md_add(&m, &b);
		plan_md_callout(&m, p, false);
	}

	if (p->nenvs) {
		buf_reset(&b);
		buf_puts(&b,
			 "| Environment | Scope | Region | Desired | Active | Failed | "
			 "Leaving | Launch | Release | Replace | Cost/hour | Status |\n"
			 "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
		plan_md_add(&m, &b);
	}
	for (size_t i = 0; i < p->nenvs; i++) {
		buf_reset(&b);
		plan_md_row(&b, &p->envs[i]);
		if (rows_more || !plan_md_add(&m, &b))
			rows_more++;
	}
	buf_reset(&b);
	if (rows_more)
		buf_printf(
			&b,
			"| ... %zu more environment%s |  |  |  |  |  |  |  |  |  |  |  |\n",
			rows_more, rows_more == 1 ? "" : "s");
	if (p->nenvs)
		buf_putc(&b, '\n');
	plan_md_add(&m, &b);

	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *pe = &p->envs[i];

		if (!pe->nlaunches && !pe->nreleases)
			continue;
		if (!full) {
			m.left_out += pe->nlaunches + pe->nreleases;
			envs_cut++;
			continue;
		}
		if (!plan_md_details(&m, pe)) {
			full = false;
			envs_cut++;
		}
	}
	m.reserve = 0; /* it was kept for what follows */
	if (m.left_out || rows_more) {
		buf_reset(&b);
		buf_printf(&b, "_Shortened to fit %zu characters: %zu line%s", limit,
			   m.left_out, m.left_out == 1 ? "" : "s");
		if (envs_cut)
			buf_printf(&b, " of %zu environment%s", envs_cut,
				   envs_cut == 1 ? "" : "s");
		if (rows_more)
			buf_printf(&b, " and %zu table row%s", rows_more,
				   rows_more == 1 ? "" : "s");
		buf_puts(&b,
			 " left out; the full plan is in `spotenv show PLANFILE` or the "
			 "text format._\n\n");
		plan_md_add(&m, &b);
	}
	plan_md_add(&m, &foot);
	buf_release(&b);
	buf_release(&foot);
	return 0;
}
