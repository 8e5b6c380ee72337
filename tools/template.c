/*
 * The template engine behind `migkit render` (language in template.h and
 * migkit.yml(5)).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "util.h"
#include "template.h"

typedef struct tpl_var {
	char *name;
	char *value; /* scalar, or NULL for a list */
	char **items;
	int nitems;
	bool is_list;
} tpl_var;

struct tpl_vars {
	tpl_var *vars;
	int n;
};

typedef struct render_state {
	const char *tname;
	const char *text; /* whole template, for line numbers */
	const tpl_vars *vars;
	tpl_mode mode;
	const char *item; /* {{.}} inside a list section */
	strbuf out;
	int depth;   /* sections open around the text being rendered */
	size_t work; /* bytes scanned and written so far, against TPL_MAX_WORK */
	bool failed;
} render_state;

tpl_vars *
tpl_vars_new(void)
{
	return xcalloc(1, sizeof(tpl_vars));
}

static tpl_var *
find_var(const tpl_vars *v, const char *name, size_t len)
{
	int i;

	for (i = 0; i < v->n; i++)
		if (strlen(v->vars[i].name) == len && strncmp(v->vars[i].name, name, len) == 0)
			return &v->vars[i];
	return NULL;
}

static tpl_var *
new_var(tpl_vars *v, const char *name)
{
	tpl_var *var = find_var(v, name, strlen(name));
	int i;

	if (var) {
		free(var->value);
		for (i = 0; i < var->nitems; i++)
			free(var->items[i]);
		free(var->items);
		var->value = NULL;
		var->items = NULL;
		var->nitems = 0;
		return var;
	}
	v->vars = xrealloc(v->vars, sizeof(tpl_var) * (size_t) (v->n + 1));
	var = &v->vars[v->n++];
	memset(var, 0, sizeof(*var));
	var->name = xstrdup(name);
	return var;
}

void
tpl_set(tpl_vars *v, const char *name, const char *value)
{
	tpl_var *var = new_var(v, name);

	var->is_list = false;
	var->value = value ? xstrdup(value) : NULL;
}

void
tpl_set_list(tpl_vars *v, const char *name, char *const *items, int nitems)
{
	tpl_var *var = new_var(v, name);
	int i;

	var->is_list = true;
	var->items = xcalloc((size_t) (nitems ? nitems : 1), sizeof(char *));
	for (i = 0; i < nitems; i++)
		var->items[i] = xstrdup(items[i]);
	var->nitems = nitems;
}

void
tpl_vars_free(tpl_vars *v)
{
	int i, j;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		free(v->vars[i].name);
		free(v->vars[i].value);
		for (j = 0; j < v->vars[i].nitems; j++)
			free(v->vars[i].items[j]);
		free(v->vars[i].items);
	}
	free(v->vars);
	free(v);
}

static int
line_of(const render_state *st, const char *p)
{
	int line = 1;
	const char *q;

	for (q = st->text; q < p; q++)
		if (*q == '\n')
			line++;
	return line;
}

/* Logs the first error only, as one line: the template's text in it is escaped. */
static void __attribute__((format(printf, 3, 4)))
tpl_error(render_state *st, const char *at, const char *fmt, ...)
{
	strbuf sb, msg;
	va_list ap;

	if (st->failed)
		return;
	st->failed = true;
	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	sb_init(&msg);
	sb_append_escaped(&msg, sb.data);
	log_error("%s:%d: %s", st->tname, line_of(st, at), msg.data);
	sb_free(&msg);
	sb_free(&sb);
}

/* Charges n bytes of scanning or output; false (logged at at) past TPL_MAX_WORK. */
static bool
charge(render_state *st, const char *at, size_t n)
{
	st->work += n;
	if (st->work <= TPL_MAX_WORK)
		return true;
	tpl_error(st, at,
			  "the template expands past %d %s: a section repeats its text too often (a list section in "
			  "itself?); render each list once",
			  TPL_MAX_WORK >= 1 << 20 ? TPL_MAX_WORK >> 20 : TPL_MAX_WORK >> 10,
			  TPL_MAX_WORK >= 1 << 20 ? "MiB" : "KiB");
	return false;
}

typedef struct tag {
	const char *start; /* the first '{' */
	const char *end;   /* just past the closing '}}' */
	char kind;         /* 0 for a value, or '#', '^', '/', '!' */
	const char *name;
	size_t namelen;
	const char *line_start; /* when standalone: the span the tag takes with its line */
	const char *line_end;
} tag;

static bool
is_name_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '.' || c == '-';
}

/* The first "cc" that lies wholly in [p, limit), or NULL. */
static const char *
find_pair(const char *p, const char *limit, char c)
{
	while (p + 1 < limit && (p = memchr(p, c, (size_t) (limit - p - 1))) != NULL) {
		if (p[1] == c)
			return p;
		p++;
	}
	return NULL;
}

/* Finds the next tag at or after p and before limit; false when there is none. */
static bool
next_tag(render_state *st, const char *p, const char *limit, tag *t)
{
	const char *s = find_pair(p, limit, '{');
	const char *q, *e;

	if (s == NULL)
		return false;
	memset(t, 0, sizeof(*t));
	t->start = s;
	q = s + 2;
	if (*q == '#' || *q == '^' || *q == '/' || *q == '!')
		t->kind = *q++;
	e = find_pair(q, limit, '}');
	if (e == NULL) {
		tpl_error(st, s, "'{{' is never closed by '}}'");
		return false;
	}
	t->end = e + 2;
	if (t->kind != '!') {
		while (q < e && *q == ' ')
			q++;
		t->name = q;
		while (q < e && is_name_char(*q))
			q++;
		t->namelen = (size_t) (q - t->name);
		while (q < e && *q == ' ')
			q++;
		if (t->namelen == 0 || q != e) {
			int n = (int) (t->end - s), shown = n;

			if (shown > 40) /* a short excerpt, not cut inside a UTF-8 character */
				for (shown = 40; shown > 0 && (s[shown] & 0xc0) == 0x80; shown--)
					;
			tpl_error(st, s, "'%.*s%s' is not a tag: names are letters, digits and '_'", shown, s,
					  shown < n ? "..." : "");
			return false;
		}
	}
	/* Standalone: only blanks between the line start and the tag and after it. */
	if (t->kind != 0) {
		const char *ls = s, *le = t->end;

		while (ls > st->text && (ls[-1] == ' ' || ls[-1] == '\t'))
			ls--;
		while (*le == ' ' || *le == '\t')
			le++;
		if ((ls == st->text || ls[-1] == '\n') && (*le == '\n' || *le == '\0')) {
			t->line_start = ls;
			t->line_end = *le == '\n' ? le + 1 : le;
		}
	}
	return charge(st, s, (size_t) (t->end - p));
}

static const char *
tag_before(const tag *t)
{
	return t->line_start ? t->line_start : t->start;
}
static const char *
tag_after(const tag *t)
{
	return t->line_end ? t->line_end : t->end;
}

/* Finds the {{/name}} that closes the section opened by open. */
static bool
find_close(render_state *st, const tag *open, const char *limit, tag *close)
{
	const char *p = tag_after(open);
	int depth = 1;
	tag t;

	while (next_tag(st, p, limit, &t)) {
		if ((t.kind == '#' || t.kind == '^') && t.namelen == open->namelen &&
			strncmp(t.name, open->name, t.namelen) == 0)
			depth++;
		else if (t.kind == '/' && t.namelen == open->namelen && strncmp(t.name, open->name, t.namelen) == 0 &&
				 --depth == 0) {
			*close = t;
			return true;
		}
		p = tag_after(&t);
	}
	if (!st->failed)
		tpl_error(st, open->start, "section '%.*s' is never closed with {{/%.*s}}", (int) open->namelen,
				  open->name, (int) open->namelen, open->name);
	return false;
}

static void render_span(render_state *st, const char *p, const char *limit);

static void
emit_value(render_state *st, const tag *t)
{
	const char *value;
	tpl_var *var;

	if (t->namelen == 1 && t->name[0] == '.') {
		if (st->item == NULL) {
			tpl_error(st, t->start, "{{.}} is only valid inside a list section");
			return;
		}
		value = st->item;
	} else {
		var = find_var(st->vars, t->name, t->namelen);
		if (var == NULL) {
			tpl_error(st, t->start, "unknown name '%.*s'", (int) t->namelen, t->name);
			return;
		}
		if (var->is_list) {
			tpl_error(st, t->start, "'%.*s' is a list: use {{#%.*s}}…{{.}}…{{/%.*s}}", (int) t->namelen,
					  t->name, (int) t->namelen, t->name, (int) t->namelen, t->name);
			return;
		}
		value = var->value ? var->value : "";
	}
	if (!charge(st, t->start, strlen(value)))
		return;
	if (st->mode == TPL_TEXT)
		sb_append(&st->out, value);
	else if (!shell_quote(&st->out, value))
		tpl_error(st, t->start, "the value of '%.*s' holds a line break", (int) t->namelen, t->name);
}

static void
render_section(render_state *st, const tag *open, const tag *close)
{
	const char *body = tag_after(open), *body_end = tag_before(close);
	tpl_var *var = find_var(st->vars, open->name, open->namelen);
	bool truthy;
	int i;

	if (var == NULL) {
		tpl_error(st, open->start, "unknown name '%.*s'", (int) open->namelen, open->name);
		return;
	}
	/* render_span and render_section recurse once per level */
	if (st->depth >= TPL_MAX_DEPTH) {
		tpl_error(st, open->start, "sections are nested more than %d deep; close some with {{/name}}",
				  TPL_MAX_DEPTH);
		return;
	}
	st->depth++;
	if (var->is_list)
		truthy = var->nitems > 0;
	else
		truthy = var->value && *var->value && strcmp(var->value, "false") != 0;

	if (open->kind == '^') {
		if (!truthy)
			render_span(st, body, body_end);
	} else if (var->is_list) {
		const char *saved = st->item;

		for (i = 0; i < var->nitems && !st->failed; i++) {
			st->item = var->items[i];
			render_span(st, body, body_end);
		}
		st->item = saved;
	} else if (truthy) {
		render_span(st, body, body_end);
	}
	st->depth--;
}

static void
render_span(render_state *st, const char *p, const char *limit)
{
	tag t, close;

	if (!charge(st, p, 1)) /* an empty section body costs a pass too */
		return;
	while (!st->failed && next_tag(st, p, limit, &t)) {
		sb_append_len(&st->out, p, (size_t) (tag_before(&t) - p));
		switch (t.kind) {
			case 0:
				emit_value(st, &t);
				p = t.end;
				break;
			case '!': p = tag_after(&t); break;
			case '/':
				tpl_error(st, t.start, "{{/%.*s}} closes no open section", (int) t.namelen, t.name);
				return;
			default:
				if (!find_close(st, &t, limit, &close))
					return;
				render_section(st, &t, &close);
				p = tag_after(&close);
				break;
		}
	}
	if (!st->failed && charge(st, p, (size_t) (limit - p)))
		sb_append_len(&st->out, p, (size_t) (limit - p));
}

char *
tpl_render(const char *name, const char *text, const tpl_vars *vars, tpl_mode mode)
{
	render_state st;
	size_t len = strlen(text);

	if (len > TPL_MAX_TEXT) {
		log_error("%s: the template is larger than %d MiB; a kit template is a short script", name,
				  TPL_MAX_TEXT >> 20);
		return NULL;
	}
	memset(&st, 0, sizeof(st));
	st.tname = name;
	st.text = text;
	st.vars = vars;
	st.mode = mode;
	sb_init(&st.out);
	render_span(&st, text, text + len);
	if (st.failed) {
		sb_free(&st.out);
		return NULL;
	}
	return sb_steal(&st.out);
}
