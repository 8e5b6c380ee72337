/*
 * Quoting and escaping (see quote.h).  SQL never gets values pasted in: it
 * takes them as $n parameters, arrays among them.
 */
#include "config.h"

#include <string.h>

#include "quote.h"
#include "util.h"

static bool
shell_safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		   strchr("_-./:,@%+=", c) != NULL;
}

bool
shell_quote(strbuf *sb, const char *s)
{
	const char *p;
	bool safe = *s != '\0';

	for (p = s; *p; p++) {
		if (*p == '\n' || *p == '\r')
			return false;
		if (!shell_safe_char((unsigned char) *p))
			safe = false;
	}
	/* A leading '=' or '%' is harmless, but '~' and '-' handling is the caller's. */
	if (safe) {
		sb_append(sb, s);
		return true;
	}
	sb_append_char(sb, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'')
			sb_append(sb, "'\\''");
		else
			sb_append_char(sb, *p);
	}
	sb_append_char(sb, '\'');
	return true;
}

void
conninfo_quote(strbuf *sb, const char *s)
{
	const char *p;
	bool safe = *s != '\0';

	for (p = s; *p; p++)
		if (*p == ' ' || *p == '\'' || *p == '\\' || *p == '\t' || *p == '=')
			safe = false;
	if (safe) {
		sb_append(sb, s);
		return;
	}
	sb_append_char(sb, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'' || *p == '\\')
			sb_append_char(sb, '\\');
		sb_append_char(sb, *p);
	}
	sb_append_char(sb, '\'');
}

void
url_encode(strbuf *sb, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *) s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			strchr("-._~", *p) != NULL)
			sb_append_char(sb, (char) *p);
		else
			sb_printf(sb, "%%%02X", *p);
	}
}

void
array_begin(strbuf *sb)
{
	sb_append_char(sb, '{');
}

void
array_add(strbuf *sb, const char *item)
{
	const char *p;

	if (sb->len > 0 && sb->data[sb->len - 1] != '{')
		sb_append_char(sb, ',');
	if (item == NULL) {
		sb_append(sb, "NULL");
		return;
	}
	sb_append_char(sb, '"');
	for (p = item; *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_append_char(sb, '\\');
		sb_append_char(sb, *p);
	}
	sb_append_char(sb, '"');
}

void
array_end(strbuf *sb)
{
	sb_append_char(sb, '}');
}

/*
 * The length of the valid UTF-8 sequence at p (1 to 4), or 0 when the bytes
 * there are not one: overlong forms, surrogates and values past U+10FFFF
 * are invalid, as PostgreSQL's own check has them.
 */
static int
utf8_length(const unsigned char *p)
{
	int n, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

void
json_quote(strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	sb_append_char(sb, '"');
	while (*p) {
		int n = utf8_length(p);

		if (n == 0) {
			sb_append(sb, "\\ufffd");
			p++;
			continue;
		}
		if (n > 1) {
			sb_append_len(sb, (const char *) p, (size_t) n);
			p += n;
			continue;
		}
		switch (*p) {
			case '"': sb_append(sb, "\\\""); break;
			case '\\': sb_append(sb, "\\\\"); break;
			case '\n': sb_append(sb, "\\n"); break;
			case '\r': sb_append(sb, "\\r"); break;
			case '\t': sb_append(sb, "\\t"); break;
			default:
				if (*p < 0x20 || *p == 0x7F)
					sb_printf(sb, "\\u%04x", *p);
				else
					sb_append_char(sb, (char) *p);
		}
		p++;
	}
	sb_append_char(sb, '"');
}

void
prom_quote(strbuf *sb, const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		if (*p == '\\')
			sb_append(sb, "\\\\");
		else if (*p == '"')
			sb_append(sb, "\\\"");
		else if (*p == '\n')
			sb_append(sb, "\\n");
		else
			sb_append_char(sb, *p);
	}
}

void
display_quote(strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p) {
		int n = utf8_length(p);

		if (n == 0 || *p < 0x20 || *p == 0x7F ||
			(n == 2 && p[0] == 0xC2 && p[1] < 0xA0)) { /* C1 controls, U+0080..U+009F */
			int k, len = n == 0 ? 1 : n;

			for (k = 0; k < len; k++)
				sb_printf(sb, "\\x%02X", p[k]);
			p += len;
			continue;
		}
		sb_append_len(sb, (const char *) p, (size_t) n);
		p += n;
	}
}

char *
display_text(const char *s)
{
	strbuf sb;

	sb_init(&sb);
	display_quote(&sb, s ? s : "");
	return sb_steal(&sb);
}

void
html_quote(strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p) {
		int n = utf8_length(p);

		if (n == 0 || (*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F ||
			(n == 2 && p[0] == 0xC2 && p[1] < 0xA0)) {
			int k, len = n == 0 ? 1 : n;

			for (k = 0; k < len; k++)
				sb_printf(sb, "\\x%02X", p[k]);
			p += len;
			continue;
		}
		switch (*p) {
			case '&': sb_append(sb, "&amp;"); break;
			case '<': sb_append(sb, "&lt;"); break;
			case '>': sb_append(sb, "&gt;"); break;
			case '"': sb_append(sb, "&quot;"); break;
			case '\'': sb_append(sb, "&#39;"); break;
			default: sb_append_len(sb, (const char *) p, (size_t) n);
		}
		p += n;
	}
}

char *
shell_unquote(const char *word)
{
	const char *p = word;
	strbuf sb;

	sb_init(&sb);
	while (*p) {
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (end == NULL)
				break;
			sb_append_len(&sb, p + 1, (size_t) (end - p - 1));
			p = end + 1;
		} else if (*p == '\\' && p[1] != '\0' && p[1] != '\n') {
			sb_append_char(&sb, p[1]);
			p += 2;
		} else if (strchr(" \t\n\"\\$`|&;<>()*?[#~{}!", *p) == NULL) {
			sb_append_char(&sb, *p);
			p++;
		} else {
			break;
		}
	}
	if (*p != '\0') {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}
