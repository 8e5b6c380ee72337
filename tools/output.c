/*
 * Text tables and JSON, so every subcommand prints the same way.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "output.h"
#include "quote.h"

bool
out_is_tty(FILE *out)
{
	return isatty(fileno(out));
}

bool
out_color(FILE *out)
{
	const char *nc = getenv("NO_COLOR");

	return out_is_tty(out) && (nc == NULL || *nc == '\0');
}

const char *
out_style(FILE *out, const char *name)
{
	static const struct {
		const char *name, *code;
	} styles[] = {
		{"red", "\033[31m"}, {"green", "\033[32m"}, {"yellow", "\033[33m"},
		{"bold", "\033[1m"}, {"dim", "\033[2m"},    {"reset", "\033[0m"},
	};
	size_t i;

	if (!out_color(out))
		return "";
	for (i = 0; i < sizeof(styles) / sizeof(styles[0]); i++)
		if (strcmp(styles[i].name, name) == 0)
			return styles[i].code;
	return "";
}

struct table {
	int ncols;
	char **headers;
	bool *right;
	char ***rows;
	int nrows;
	int cap;
};

table *
table_new(int ncols, const char *const *headers)
{
	table *t = xcalloc(1, sizeof(*t));
	int i;

	t->ncols = ncols;
	t->headers = xcalloc((size_t) ncols, sizeof(char *));
	t->right = xcalloc((size_t) ncols, sizeof(bool));
	for (i = 0; i < ncols; i++)
		t->headers[i] = xstrdup(headers[i]);
	return t;
}

void
table_align_right(table *t, int col)
{
	if (col >= 0 && col < t->ncols)
		t->right[col] = true;
}

void
table_add_row(table *t, const char *const *cells)
{
	char **row;
	int i;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = xrealloc(t->rows, (size_t) t->cap * sizeof(char **));
	}
	row = xcalloc((size_t) t->ncols, sizeof(char *));
	for (i = 0; i < t->ncols; i++)
		row[i] = display_text(cells[i]); /* a cell may hold text from the data */
	t->rows[t->nrows++] = row;
}

/* Display width of UTF-8 text: counts code points, not bytes. */
static int
text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			w++;
	return w;
}

static void
print_cell(FILE *out, const char *s, int width, bool right, bool last)
{
	int pad = width - text_width(s);

	if (right)
		fprintf(out, "%*s%s", pad > 0 ? pad : 0, "", s);
	else if (last)
		fputs(s, out);
	else
		fprintf(out, "%s%*s", s, pad > 0 ? pad : 0, "");
}

void
table_print(const table *t, FILE *out)
{
	int *width = xcalloc((size_t) t->ncols, sizeof(int));
	int i, r;

	for (i = 0; i < t->ncols; i++)
		width[i] = text_width(t->headers[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if (text_width(t->rows[r][i]) > width[i])
				width[i] = text_width(t->rows[r][i]);

	fputs(out_style(out, "bold"), out);
	for (i = 0; i < t->ncols; i++) {
		print_cell(out, t->headers[i], width[i], t->right[i], i == t->ncols - 1);
		if (i < t->ncols - 1)
			fputs("  ", out);
	}
	fprintf(out, "%s\n", out_style(out, "reset"));
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			print_cell(out, t->rows[r][i], width[i], t->right[i], i == t->ncols - 1);
			if (i < t->ncols - 1)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
	free(width);
}

void
table_free(table *t)
{
	int i, r;

	if (t == NULL)
		return;
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++)
			free(t->rows[r][i]);
		free(t->rows[r]);
	}
	for (i = 0; i < t->ncols; i++)
		free(t->headers[i]);
	free(t->rows);
	free(t->headers);
	free(t->right);
	free(t);
}

void
json_init(json *j, FILE *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = true;
}

static void
json_write_string(FILE *out, const char *s)
{
	strbuf sb;

	sb_init(&sb);
	json_quote(&sb, s);
	fputs(sb.data, out);
	sb_free(&sb);
}

static void
json_key(json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
	if (key) {
		json_write_string(j->out, key);
		fputc(':', j->out);
	}
}

static void
json_open(json *j, const char *key, char c)
{
	json_key(j, key);
	fputc(c, j->out);
	if (j->depth < 63)
		j->depth++;
	j->first[j->depth] = true;
}

void
json_object_begin(json *j, const char *key)
{
	json_open(j, key, '{');
}

void
json_object_end(json *j)
{
	fputc('}', j->out);
	if (j->depth > 0)
		j->depth--;
}

void
json_array_begin(json *j, const char *key)
{
	json_open(j, key, '[');
}

void
json_array_end(json *j)
{
	fputc(']', j->out);
	if (j->depth > 0)
		j->depth--;
}

void
json_string(json *j, const char *key, const char *value)
{
	json_key(j, key);
	if (value)
		json_write_string(j->out, value);
	else
		fputs("null", j->out);
}

void
json_int(json *j, const char *key, long long value)
{
	json_key(j, key);
	fprintf(j->out, "%lld", value);
}

void
json_double(json *j, const char *key, double value)
{
	json_key(j, key);
	if (isfinite(value))
		fprintf(j->out, "%.6g", value);
	else
		fputs("null", j->out);
}

void
json_bool(json *j, const char *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

void
json_null(json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
}

/* A JSON number: -?digits(.digits)?([eE][+-]?digits)? */
static bool
is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	while (isdigit((unsigned char) *p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return *p == '\0';
}

void
json_number_text(json *j, const char *key, const char *value)
{
	json_key(j, key);
	if (value && is_json_number(value))
		fputs(value, j->out);
	else
		fputs("null", j->out);
}

void
json_finish(json *j)
{
	fputc('\n', j->out);
	fflush(j->out);
}

const char *
format_bytes(double bytes, char *buf, size_t size)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	int u = 0;

	while (fabs(bytes) >= 1024 && u < 5) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0f B", bytes);
	else
		snprintf(buf, size, "%.1f %s", bytes, units[u]);
	return buf;
}

const char *
format_duration(double seconds, char *buf, size_t size)
{
	long s;

	if (!isfinite(seconds) || seconds < 0)
		snprintf(buf, size, "-");
	else if (seconds < 60)
		snprintf(buf, size, "%.1fs", seconds);
	else if (seconds < 3600) {
		s = (long) seconds;
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	} else {
		s = (long) seconds;
		snprintf(buf, size, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
	}
	return buf;
}

const char *
format_seconds(double seconds, char *buf, size_t size)
{
	if (!isnan(seconds) && seconds < 1)
		snprintf(buf, size, "%.0f ms", seconds * 1000);
	else
		format_duration(seconds, buf, size);
	return buf;
}

const char *
format_timestamp(double epoch, char *buf, size_t size)
{
	long long us = llround(epoch * 1e6);
	time_t t = (time_t) (us / 1000000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06lldZ", base, us % 1000000);
	return buf;
}
