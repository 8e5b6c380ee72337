/*
 * Quoting for the three places migkit writes values into text another
 * program parses: shell scripts, libpq conninfo strings and URLs.  SQL never
 * gets values pasted in: it takes them as $n parameters.
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
