/*
 * Access to the embedded kit/tables.sql for the C helpers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "embedded.h"
#include "tables.h"

const char *
embedded_lookup(const char *name)
{
	const struct embedded_file *e;

	for (e = embedded_files; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e->data;
	return NULL;
}

char *
tables_query(void)
{
	const char *sql = embedded_lookup("kit/tables.sql");
	strbuf sb;
	const char *p;

	sb_init(&sb);
	for (p = sql; *p;) {
		if (strncmp(p, ":'include'", 10) == 0) {
			sb_append(&sb, "$1");
			p += 10;
		} else if (strncmp(p, ":'exclude'", 10) == 0) {
			sb_append(&sb, "$2");
			p += 10;
		} else
			sb_append_char(&sb, *p++);
	}
	return sb_steal(&sb);
}

static const char *
list_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : "[]";
}

const char *
tables_include(void)
{
	return list_env("MIGKIT_INCLUDE");
}

const char *
tables_exclude(void)
{
	return list_env("MIGKIT_EXCLUDE");
}
