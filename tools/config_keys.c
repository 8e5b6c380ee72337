/*
 * The keys of migration.yml and a configuration's values by key: the one
 * table that declares every key, the words that name what a type takes,
 * the checks every text value passes, and the one way a key's error is
 * reported, as FILE:LINE:COL and the fix.  Loading the file, deriving the
 * keys left out and a fleet's databases all use these.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "quote.h"
#include "util.h"
#include "config_internal.h"

/* clang-format off */
const key_def config_keys[] = {
	{"context_dir", KEY_STRING, false},
	{"src_cls", KEY_NAME, true},
	{"src_db", KEY_NAME, true},
	{"databases", KEY_DATABASES, false},
	{"src_ip", KEY_STRING, true},
	{"src_port", KEY_PORT, false},
	{"src_pg", KEY_CONNINFO, false},
	{"dst_cls", KEY_NAME, true},
	{"dst_db", KEY_NAME, true},
	{"dst_ip", KEY_STRING, true},
	{"dst_port", KEY_PORT, false},
	{"dst_pg", KEY_CONNINFO, false},
	{"sub_conn", KEY_CONNINFO, false},
	{"pub_name", KEY_OBJECT, false},
	{"sub_name", KEY_SLOT, false},
	{"admin_user", KEY_STRING, false},
	{"repl_user", KEY_STRING, false},
	{"app_roles", KEY_LIST, false},
	{"include", KEY_LIST, false},
	{"exclude", KEY_LIST, false},
	{"seq_shift", KEY_INT, false},
	{"lag_max_bytes", KEY_INT, false},
	{"lag_max_seconds", KEY_INT, false},
	{"heartbeat", KEY_BOOL, false},
	{"wal_budget_bytes", KEY_INT, false},
	{"templates_dir", KEY_STRING, false},
	{NULL, KEY_STRING, false},
};
/* clang-format on */

_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) - 1 == CONFIG_NKEYS,
			   "CONFIG_NKEYS in config_internal.h counts the keys of config_keys");

int
config_key_index(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return (int) i;
	return -1;
}

/*
 * Logs one config error at a position; always returns false.  Control
 * characters from the file (a key may hold a line break) are written as
 * escapes, so the message stays one line.
 */
bool
config_error(const mk_config *c, int line, int col, const char *fmt, ...)
{
	strbuf sb, msg;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	sb_init(&msg);
	sb_append_escaped(&msg, sb.data);
	if (line > 0)
		fprintf(stderr, "%s:%d:%d: %s\n", c->path, line, col, msg.data);
	else
		fprintf(stderr, "%s: %s\n", c->path, msg.data);
	sb_free(&msg);
	sb_free(&sb);
	return false;
}

const char *
config_type_words(key_type t)
{
	switch (t) {
		case KEY_PORT: return "a port number (1-65535)";
		case KEY_INT: return "a whole number >= 0";
		case KEY_BOOL: return "true or false";
		case KEY_LIST: return "a list, e.g. [a, b]";
		case KEY_DATABASES: return "all or a list of database names, e.g. [shop, crm]";
		default: return "a single text value";
	}
}

bool
config_check_text(mk_config *c, const key_def *k, const char *text, int line, int col)
{
	if (strchr(text, '\n') || strchr(text, '\r'))
		return config_error(c, line, col, "%s: value holds a line break; write it on one line", k->name);
	if ((k->type == KEY_NAME || k->type == KEY_DATABASES) &&
		(strchr(text, '/') || strcmp(text, ".") == 0 || strcmp(text, "..") == 0))
		return config_error(c, line, col, "%s: '%s' cannot name a kit directory; remove the '/'", k->name,
							text);
	return true;
}

const config_value *
config_entry(const mk_config *c, const char *name)
{
	int idx = config_key_index(name);

	return idx < 0 ? NULL : &c->values[idx];
}

const char *
config_get(const mk_config *c, const char *name)
{
	const config_value *v = config_entry(c, name);

	return v ? v->text : NULL;
}

const char *
config_path(const mk_config *c)
{
	return c->path;
}

char *
config_list_json(const mk_config *c, const char *name)
{
	const config_value *v = config_entry(c, name);
	strbuf sb;
	int i;

	sb_init(&sb);
	sb_append_char(&sb, '[');
	for (i = 0; v && i < v->nitems; i++) {
		if (i > 0)
			sb_append(&sb, ", ");
		json_quote(&sb, v->items[i]);
	}
	sb_append_char(&sb, ']');
	return sb_steal(&sb);
}
