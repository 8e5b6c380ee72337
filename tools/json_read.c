/*
 * A JSON reader (see json_read.h): recursive descent over the text, with
 * the line and column of the first thing that is not JSON.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "util.h"

#define MAX_DEPTH 64

typedef struct parser {
	const char *p;
	const char *end;
	const char *line_start;
	int line;
	jv_error *err;
	bool failed;
} parser;

static void fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	if (ps->err == NULL)
		return;
	ps->err->line = ps->line;
	ps->err->column = (int) (ps->p - ps->line_start) + 1;
	va_start(ap, fmt);
	vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
	va_end(ap);
}

static void
skip_space(parser *ps)
{
	while (ps->p < ps->end) {
		char c = *ps->p;

		if (c == '\n') {
			ps->line++;
			ps->line_start = ps->p + 1;
		} else if (c != ' ' && c != '\t' && c != '\r')
			break;
		ps->p++;
	}
}

static jv *
new_value(jv_type type)
{
	jv *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

static bool
literal(parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t) (ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
		ps->p += n;
		return true;
	}
	return false;
}

static int
hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static void
append_utf8(strbuf *sb, unsigned int cp)
{
	if (cp < 0x80)
		sb_append_char(sb, (char) cp);
	else if (cp < 0x800) {
		sb_append_char(sb, (char) (0xC0 | (cp >> 6)));
		sb_append_char(sb, (char) (0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		sb_append_char(sb, (char) (0xE0 | (cp >> 12)));
		sb_append_char(sb, (char) (0x80 | ((cp >> 6) & 0x3F)));
		sb_append_char(sb, (char) (0x80 | (cp & 0x3F)));
	} else {
		sb_append_char(sb, (char) (0xF0 | (cp >> 18)));
		sb_append_char(sb, (char) (0x80 | ((cp >> 12) & 0x3F)));
		sb_append_char(sb, (char) (0x80 | ((cp >> 6) & 0x3F)));
		sb_append_char(sb, (char) (0x80 | (cp & 0x3F)));
	}
}

/* A string, the opening quote at ps->p; its value, or NULL. */
static char *
parse_string(parser *ps)
{
	strbuf sb;

	ps->p++;
	sb_init(&sb);
	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end) {
			fail(ps, "the string does not end");
			break;
		}
		c = (unsigned char) *ps->p;
		if (c == '"') {
			ps->p++;
			return sb_steal(&sb);
		}
		if (c < 0x20) {
			fail(ps, "a control character in a string (it must be written as an escape)");
			break;
		}
		if (c != '\\') {
			sb_append_char(&sb, (char) c);
			ps->p++;
			continue;
		}
		if (ps->end - ps->p < 2) {
			fail(ps, "the string does not end");
			break;
		}
		switch (ps->p[1]) {
			case '"': sb_append_char(&sb, '"'); break;
			case '\\': sb_append_char(&sb, '\\'); break;
			case '/': sb_append_char(&sb, '/'); break;
			case 'b': sb_append_char(&sb, '\b'); break;
			case 'f': sb_append_char(&sb, '\f'); break;
			case 'n': sb_append_char(&sb, '\n'); break;
			case 'r': sb_append_char(&sb, '\r'); break;
			case 't': sb_append_char(&sb, '\t'); break;
			case 'u': {
				int hi = ps->end - ps->p >= 6 ? hex4(ps->p + 2) : -1, lo;

				if (hi < 0) {
					fail(ps, "\\u takes four hex digits");
					goto failed;
				}
				if (hi >= 0xD800 && hi <= 0xDBFF && ps->end - ps->p >= 12 && ps->p[6] == '\\' &&
					ps->p[7] == 'u' && (lo = hex4(ps->p + 8)) >= 0xDC00 && lo <= 0xDFFF) {
					append_utf8(&sb, 0x10000 + (((unsigned int) hi - 0xD800) << 10) +
										 ((unsigned int) lo - 0xDC00));
					ps->p += 6;
				} else if (hi >= 0xD800 && hi <= 0xDFFF) {
					append_utf8(&sb, 0xFFFD);
				} else if (hi == 0) {
					append_utf8(&sb, 0xFFFD); /* no NUL inside a C string */
				} else {
					append_utf8(&sb, (unsigned int) hi);
				}
				ps->p += 4;
				break;
			}
			default: fail(ps, "unknown escape \\%c", ps->p[1]); goto failed;
		}
		ps->p += 2;
	}
failed:
	sb_free(&sb);
	return NULL;
}

static jv *
parse_number(parser *ps)
{
	const char *start = ps->p, *q = ps->p;
	jv *v;

	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end || *q < '0' || *q > '9') {
		fail(ps, "not a value");
		return NULL;
	}
	if (*q == '0')
		q++;
	else
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	if (q < ps->end && *q == '.') {
		q++;
		if (q >= ps->end || *q < '0' || *q > '9') {
			ps->p = q;
			fail(ps, "a digit must follow the decimal point");
			return NULL;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9') {
			ps->p = q;
			fail(ps, "a digit must follow the exponent");
			return NULL;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	v = new_value(JV_NUMBER);
	v->text = xmalloc((size_t) (q - start) + 1);
	memcpy(v->text, start, (size_t) (q - start));
	v->text[q - start] = '\0';
	v->number = strtod(v->text, NULL);
	ps->p = q;
	return v;
}

static void
add_item(jv *v, char *key, jv *item)
{
	if ((v->n & (v->n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power of two */
		size_t cap = v->n ? (size_t) v->n * 2 : 1;

		v->items = xrealloc(v->items, cap * sizeof(jv *));
		if (v->type == JV_OBJECT)
			v->keys = xrealloc(v->keys, cap * sizeof(char *));
	}
	v->items[v->n] = item;
	if (v->type == JV_OBJECT)
		v->keys[v->n] = key;
	v->n++;
}

static jv *parse_value(parser *ps, int depth);

static jv *
parse_container(parser *ps, int depth, bool object)
{
	jv *v = new_value(object ? JV_OBJECT : JV_ARRAY);
	char close = object ? '}' : ']';

	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		jv *item;

		skip_space(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "a member name (a string) was expected");
				break;
			}
			if ((key = parse_string(ps)) == NULL)
				break;
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				fail(ps, "':' was expected after the member name");
				break;
			}
			ps->p++;
		}
		if ((item = parse_value(ps, depth + 1)) == NULL) {
			free(key);
			break;
		}
		add_item(v, key, item);
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return v;
		}
		fail(ps, object ? "',' or '}' was expected" : "',' or ']' was expected");
		break;
	}
	jv_free(v);
	return NULL;
}

static jv *
parse_value(parser *ps, int depth)
{
	jv *v;

	skip_space(ps);
	if (depth > MAX_DEPTH) {
		fail(ps, "nested deeper than %d levels", MAX_DEPTH);
		return NULL;
	}
	if (ps->p >= ps->end) {
		fail(ps, "the text ends where a value was expected");
		return NULL;
	}
	switch (*ps->p) {
		case '{': return parse_container(ps, depth, true);
		case '[': return parse_container(ps, depth, false);
		case '"': {
			char *s = parse_string(ps);

			if (s == NULL)
				return NULL;
			v = new_value(JV_STRING);
			v->text = s;
			return v;
		}
		case 't':
		case 'f': {
			bool is_true = literal(ps, "true");

			if (is_true || literal(ps, "false")) {
				v = new_value(JV_BOOL);
				v->boolean = is_true;
				return v;
			}
			break;
		}
		case 'n':
			if (literal(ps, "null"))
				return new_value(JV_NULL);
			break;
		default: return parse_number(ps);
	}
	fail(ps, "not a value");
	return NULL;
}

jv *
jv_parse(const char *text, size_t len, jv_error *err)
{
	parser ps;
	jv *v;

	memset(&ps, 0, sizeof(ps));
	ps.p = ps.line_start = text;
	ps.end = text + len;
	ps.line = 1;
	ps.err = err;
	if (memchr(text, '\0', len) != NULL) {
		ps.p = memchr(text, '\0', len);
		fail(&ps, "a NUL byte");
		return NULL;
	}
	v = parse_value(&ps, 0);
	if (v == NULL)
		return NULL;
	skip_space(&ps);
	if (ps.p < ps.end) {
		fail(&ps, "text after the value");
		jv_free(v);
		return NULL;
	}
	return v;
}

void
jv_free(jv *v)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		jv_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->text);
	free(v);
}

const jv *
jv_get(const jv *v, const char *key)
{
	int i;

	if (v == NULL || v->type != JV_OBJECT)
		return NULL;
	for (i = v->n - 1; i >= 0; i--)
		if (strcmp(v->keys[i], key) == 0)
			return v->items[i];
	return NULL;
}

const jv *
jv_path(const jv *v, const char *path)
{
	char key[128];
	const char *dot;

	while (v && (dot = strchr(path, '.')) != NULL) {
		size_t n = (size_t) (dot - path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = jv_get(v, key);
		path = dot + 1;
	}
	return jv_get(v, path);
}

const jv *
jv_item(const jv *v, int i)
{
	if (v == NULL || v->type != JV_ARRAY || i < 0 || i >= v->n)
		return NULL;
	return v->items[i];
}

int
jv_count(const jv *v)
{
	return v && v->type == JV_ARRAY ? v->n : 0;
}

const char *
jv_str(const jv *v)
{
	return v && v->type == JV_STRING ? v->text : NULL;
}

bool
jv_num(const jv *v, double *out)
{
	if (v == NULL || v->type != JV_NUMBER || !isfinite(v->number))
		return false;
	*out = v->number;
	return true;
}

bool
jv_bool(const jv *v, bool *out)
{
	if (v == NULL || v->type != JV_BOOL)
		return false;
	*out = v->boolean;
	return true;
}

bool
jv_is(const jv *v, jv_type type)
{
	return v && v->type == type;
}

const char *
jv_get_str(const jv *v, const char *path)
{
	return jv_str(jv_path(v, path));
}

double
jv_get_num(const jv *v, const char *path, double def)
{
	double d;

	return jv_num(jv_path(v, path), &d) ? d : def;
}
