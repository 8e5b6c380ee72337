/*
 * Loading migration.yml.  Every key is declared once in config_keys; an
 * unknown key, a wrong type, a missing required key or a value with a
 * newline stops the load with FILE:LINE:COL and the fix.
 */
#include "config.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "quote.h"
#include "util.h"
#include "config_file.h"

/* clang-format off */
const key_def config_keys[] = {
	{"context_dir", KEY_STRING, false},
	{"src_cls", KEY_NAME, true},
	{"src_db", KEY_NAME, true},
	{"src_ip", KEY_STRING, true},
	{"src_port", KEY_PORT, false},
	{"src_pg", KEY_CONNINFO, false},
	{"dst_cls", KEY_NAME, true},
	{"dst_db", KEY_NAME, true},
	{"dst_ip", KEY_STRING, true},
	{"dst_port", KEY_PORT, false},
	{"dst_pg", KEY_CONNINFO, false},
	{"sub_conn", KEY_CONNINFO, false},
	{"pub_name", KEY_STRING, false},
	{"sub_name", KEY_STRING, false},
	{"admin_user", KEY_STRING, false},
	{"repl_user", KEY_STRING, false},
	{"app_roles", KEY_LIST, false},
	{"include", KEY_LIST, false},
	{"exclude", KEY_LIST, false},
	{"seq_shift", KEY_INT, false},
	{"lag_max_bytes", KEY_INT, false},
	{"lag_max_seconds", KEY_INT, false},
	{"heartbeat", KEY_BOOL, false},
	{"templates_dir", KEY_STRING, false},
	{NULL, KEY_STRING, false},
};
/* clang-format on */

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]) - 1)

struct mk_config {
	char *path;
	config_value values[NKEYS];
};

static int
key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return (int) i;
	return -1;
}

/* Logs one config error at a position; always returns false. */
static bool __attribute__((format(printf, 4, 5)))
config_error(const mk_config *c, int line, int col, const char *fmt, ...)
{
	strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (line > 0)
		fprintf(stderr, "%s:%d:%d: %s\n", c->path, line, col, sb.data);
	else
		fprintf(stderr, "%s: %s\n", c->path, sb.data);
	sb_free(&sb);
	return false;
}

static const char *
type_words(key_type t)
{
	switch (t) {
		case KEY_PORT: return "a port number (1-65535)";
		case KEY_INT: return "a whole number >= 0";
		case KEY_BOOL: return "true or false";
		case KEY_LIST: return "a list, e.g. [a, b]";
		default: return "a single text value";
	}
}

static bool
check_text(mk_config *c, const key_def *k, const char *text, int line, int col)
{
	if (strchr(text, '\n') || strchr(text, '\r'))
		return config_error(c, line, col, "%s: value holds a line break; write it on one line", k->name);
	if (k->type == KEY_NAME && (strchr(text, '/') || strcmp(text, ".") == 0 || strcmp(text, "..") == 0))
		return config_error(c, line, col, "%s: '%s' cannot name a kit directory; remove the '/'", k->name,
							text);
	return true;
}

/* Refuses a conninfo libpq cannot parse, and any that carries a password. */
static bool
check_conninfo(mk_config *c, const key_def *k, const char *text, int line, int col)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(text, &err), *o;
	bool ok = true;

	if (opts == NULL) {
		char *nl;

		if (err && (nl = strchr(err, '\n')))
			*nl = '\0';
		ok =
			config_error(c, line, col,
						 "%s: not a valid connection string (%s); write a postgres:// URL or key=value pairs",
						 k->name, err ? err : "out of memory");
		PQfreemem(err);
		return ok;
	}
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			ok = config_error(
				c, line, col,
				"%s holds a password, and kits never store secrets: remove it and put it in ~/.pgpass or PGPASSFILE",
				k->name);
	PQconninfoFree(opts);
	return ok;
}

static bool
set_scalar(mk_config *c, const key_def *k, config_value *v, yaml_node_t *node)
{
	const char *text = (const char *) node->data.scalar.value;
	int line = (int) node->start_mark.line + 1, col = (int) node->start_mark.column + 1;
	bool plain = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	long n;

	if (plain && (strcmp(text, "") == 0 || strcmp(text, "~") == 0 || strcmp(text, "null") == 0)) {
		if (k->required)
			return config_error(c, line, col, "%s: a value is required", k->name);
		return true; /* an empty optional key means "derive it" */
	}
	if (!check_text(c, k, text, line, col))
		return false;
	switch (k->type) {
		case KEY_PORT:
			if (!plain || !parse_long(text, &n) || n < 1 || n > 65535)
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text, type_words(k->type));
			break;
		case KEY_INT:
			if (!plain || !parse_long(text, &n) || n < 0)
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text, type_words(k->type));
			break;
		case KEY_BOOL:
			if (!plain)
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text, type_words(k->type));
			if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "on") == 0)
				text = "true";
			else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "off") == 0)
				text = "false";
			else
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text, type_words(k->type));
			break;
		case KEY_CONNINFO:
			if (!check_conninfo(c, k, text, line, col))
				return false;
			break;
		default:
			if (*text == '\0' && k->required)
				return config_error(c, line, col, "%s: a value is required", k->name);
			if (*text == '\0')
				return true;
			break;
	}
	v->text = xstrdup(text);
	v->set = true;
	return true;
}

static bool
set_list(mk_config *c, const key_def *k, config_value *v, yaml_document_t *doc, yaml_node_t *node)
{
	yaml_node_item_t *it;

	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		int line = (int) item->start_mark.line + 1, col = (int) item->start_mark.column + 1;

		if (item->type != YAML_SCALAR_NODE)
			return config_error(c, line, col, "%s: each item must be a single text value", k->name);
		if (!check_text(c, k, (const char *) item->data.scalar.value, line, col))
			return false;
		if (item->data.scalar.value[0] == '\0')
			return config_error(c, line, col, "%s: an item is empty; remove it", k->name);
		v->items = xrealloc(v->items, sizeof(char *) * (size_t) (v->nitems + 1));
		v->items[v->nitems++] = xstrdup((const char *) item->data.scalar.value);
	}
	v->set = true;
	return true;
}

static bool
load_mapping(mk_config *c, yaml_document_t *doc)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_pair_t *pair;
	size_t i;

	if (root == NULL)
		return config_error(
			c, 0, 0, "the file is empty; it needs at least src_cls, src_db, src_ip, dst_cls, dst_db, dst_ip");
	if (root->type != YAML_MAPPING_NODE)
		return config_error(c, (int) root->start_mark.line + 1, (int) root->start_mark.column + 1,
							"the file must be a mapping of key: value lines");

	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pair->value);
		int line = (int) kn->start_mark.line + 1, col = (int) kn->start_mark.column + 1;
		const char *name;
		const key_def *k;
		config_value *v;
		int idx;

		if (kn->type != YAML_SCALAR_NODE)
			return config_error(c, line, col, "keys must be plain names");
		name = (const char *) kn->data.scalar.value;
		idx = key_index(name);
		if (idx < 0)
			return config_error(c, line, col, "unknown key '%s'; see migkit.yml(5) for the keys migkit reads",
								name);
		k = &config_keys[idx];
		v = &c->values[idx];
		if (v->line > 0)
			return config_error(c, line, col, "%s is given twice (first at line %d); keep one", name,
								v->line);
		v->line = (int) vn->start_mark.line + 1;
		v->col = (int) vn->start_mark.column + 1;

		if (k->type == KEY_LIST) {
			if (vn->type == YAML_SCALAR_NODE && vn->data.scalar.value[0] == '\0' &&
				vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				continue; /* "include:" with nothing: an empty list */
			if (vn->type != YAML_SEQUENCE_NODE)
				return config_error(c, v->line, v->col, "%s must be %s", name, type_words(k->type));
			if (!set_list(c, k, v, doc, vn))
				return false;
		} else {
			if (vn->type != YAML_SCALAR_NODE)
				return config_error(c, v->line, v->col, "%s must be %s", name, type_words(k->type));
			if (!set_scalar(c, k, v, vn))
				return false;
		}
	}

	for (i = 0; i < NKEYS; i++)
		if (config_keys[i].required && c->values[i].text == NULL)
			return config_error(c, 0, 0, "missing required key '%s'; add a line '%s: …'", config_keys[i].name,
								config_keys[i].name);
	return true;
}

static void
derive(mk_config *c, const char *name, char *text)
{
	config_value *v = &c->values[key_index(name)];

	if (v->text == NULL)
		v->text = text;
	else
		free(text);
}

static char *
derive_url(const mk_config *c, const char *ip_key, const char *port_key, const char *db_key)
{
	const char *ip = config_get(c, ip_key);
	const config_value *port = config_entry(c, port_key);
	strbuf sb;

	sb_init(&sb);
	sb_append(&sb, "postgres://");
	url_encode(&sb, config_get(c, "admin_user"));
	sb_append_char(&sb, '@');
	if (strchr(ip, ':') && ip[0] != '[')
		sb_printf(&sb, "[%s]", ip);
	else
		sb_append(&sb, ip);
	if (port->set)
		sb_printf(&sb, ":%s", port->text);
	sb_append_char(&sb, '/');
	url_encode(&sb, config_get(c, db_key));
	return sb_steal(&sb);
}

/* pub_<src_cls>_<src_db> with '-' written as '_' */
static char *
derive_object_name(const mk_config *c, const char *prefix)
{
	char *s = xasprintf("%s_%s_%s", prefix, config_get(c, "src_cls"), config_get(c, "src_db"));
	char *p;

	for (p = s; *p; p++)
		if (*p == '-')
			*p = '_';
	return s;
}

static void
derive_defaults(mk_config *c)
{
	strbuf sb;
	const config_value *port = config_entry(c, "src_port");

	derive(c, "context_dir", xstrdup("~/migration"));
	derive(c, "admin_user", xstrdup("dbuser_dba"));
	derive(c, "repl_user", xstrdup("replicator"));
	derive(c, "src_port", xstrdup("5432"));
	derive(c, "dst_port", xstrdup("5432"));
	derive(c, "seq_shift", xstrdup("0"));
	derive(c, "lag_max_bytes", xstrdup("1048576"));
	derive(c, "lag_max_seconds", xstrdup("5"));
	derive(c, "heartbeat", xstrdup("false"));
	derive(c, "src_pg", derive_url(c, "src_ip", "src_port", "src_db"));
	derive(c, "dst_pg", derive_url(c, "dst_ip", "dst_port", "dst_db"));
	derive(c, "pub_name", derive_object_name(c, "pub"));
	derive(c, "sub_name", derive_object_name(c, "sub"));

	sb_init(&sb);
	sb_append(&sb, "host=");
	conninfo_quote(&sb, config_get(c, "src_ip"));
	if (port->set) {
		sb_append(&sb, " port=");
		conninfo_quote(&sb, port->text);
	}
	sb_append(&sb, " dbname=");
	conninfo_quote(&sb, config_get(c, "src_db"));
	sb_append(&sb, " user=");
	conninfo_quote(&sb, config_get(c, "repl_user"));
	derive(c, "sub_conn", sb_steal(&sb));
}

mk_config *
config_load(const char *path)
{
	mk_config *c = xcalloc(1, sizeof(*c));
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	bool ok;

	c->path = xstrdup(path);
	f = fopen(path, "rb");
	if (f == NULL) {
		log_error("cannot read %s: %m", path);
		config_free(c);
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		config_error(c, (int) parser.problem_mark.line + 1, (int) parser.problem_mark.column + 1,
					 "not valid YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
					 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		config_free(c);
		return NULL;
	}
	ok = load_mapping(c, &doc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (!ok) {
		config_free(c);
		return NULL;
	}
	derive_defaults(c);
	return c;
}

void
config_free(mk_config *c)
{
	size_t i;
	int j;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		free(c->values[i].text);
		for (j = 0; j < c->values[i].nitems; j++)
			free(c->values[i].items[j]);
		free(c->values[i].items);
	}
	free(c->path);
	free(c);
}

const config_value *
config_entry(const mk_config *c, const char *name)
{
	int idx = key_index(name);

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
