/*
 * Loading migration.yml.  Every key is declared once in config_keys
 * (config_keys.c); an unknown key, a wrong type, a missing required key, a
 * value with a newline or input past the limits in config_file.h stops the
 * load with FILE:LINE:COL and the fix.  The keys left out are derived in
 * config_defaults.c; a fleet's databases: list, and each of its
 * databases' configurations, are config_fleet.c's.
 */
#include "config.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"
#include "config_internal.h"

/* Logs what libyaml's parser or loader stopped at; returns false. */
static bool
yaml_problem(const mk_config *c, const yaml_parser_t *parser)
{
	return config_error(c, (int) parser->problem_mark.line + 1, (int) parser->problem_mark.column + 1,
						"not valid YAML: %s%s%s", parser->problem ? parser->problem : "syntax error",
						parser->context ? " " : "", parser->context ? parser->context : "");
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
	if (!config_check_text(c, k, text, line, col))
		return false;
	switch (k->type) {
		case KEY_PORT:
			if (!plain || !parse_long(text, &n) || n < 1 || n > 65535)
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text,
									config_type_words(k->type));
			break;
		case KEY_INT:
			if (!plain || !parse_long(text, &n) || n < 0)
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text,
									config_type_words(k->type));
			break;
		case KEY_BOOL:
			if (!plain)
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text,
									config_type_words(k->type));
			if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "on") == 0)
				text = "true";
			else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "off") == 0)
				text = "false";
			else
				return config_error(c, line, col, "%s: '%s' is not %s", k->name, text,
									config_type_words(k->type));
			break;
		case KEY_CONNINFO:
			if (!check_conninfo(c, k, text, line, col))
				return false;
			break;
		case KEY_SLOT:
			if (strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(text) || *text == '\0')
				return config_error(
					c, line, col,
					"%s: '%s' cannot name the subscription's replication slot; use only lower-case "
					"letters, digits and _",
					k->name, text);
			/* fall through */
		case KEY_OBJECT:
			if (strlen(text) > CONFIG_MAX_OBJECT)
				return config_error(
					c, line, col,
					"%s: '%s' is %zu bytes; at most %d, so that '%s_reverse' fits PostgreSQL's 63", k->name,
					text, strlen(text), CONFIG_MAX_OBJECT, text);
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

	v->items =
		xcalloc((size_t) (node->data.sequence.items.top - node->data.sequence.items.start), sizeof(char *));
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		int line = (int) item->start_mark.line + 1, col = (int) item->start_mark.column + 1;

		if (item->type != YAML_SCALAR_NODE)
			return config_error(c, line, col, "%s: each item must be a single text value", k->name);
		if (!config_check_text(c, k, (const char *) item->data.scalar.value, line, col))
			return false;
		if (item->data.scalar.value[0] == '\0')
			return config_error(c, line, col, "%s: an item is empty; remove it", k->name);
		/* An alias repeats its anchor's text without making the file longer. */
		c->list_bytes += item->data.scalar.length;
		if (c->list_bytes > CONFIG_MAX_BYTES)
			return config_error(c, line, col,
								"%s: the list items add up to more than %d MiB; write fewer (an alias *name "
								"repeats its anchor's value)",
								k->name, CONFIG_MAX_BYTES >> 20);
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
		idx = config_key_index(name);
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

		if (k->type == KEY_DATABASES) {
			if (!config_set_databases(c, k, v, doc, vn))
				return false;
		} else if (k->type == KEY_LIST) {
			if (vn->type == YAML_SCALAR_NODE && vn->data.scalar.value[0] == '\0' &&
				vn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				continue; /* "include:" with nothing: an empty list */
			if (vn->type != YAML_SEQUENCE_NODE)
				return config_error(c, v->line, v->col, "%s must be %s", name, config_type_words(k->type));
			if (!set_list(c, k, v, doc, vn))
				return false;
		} else {
			if (vn->type != YAML_SCALAR_NODE)
				return config_error(c, v->line, v->col, "%s must be %s", name, config_type_words(k->type));
			if (!set_scalar(c, k, v, vn))
				return false;
		}
	}

	for (i = 0; i < CONFIG_NKEYS; i++) {
		bool per_database =
			strcmp(config_keys[i].name, "src_db") == 0 || strcmp(config_keys[i].name, "dst_db") == 0;

		if (config_keys[i].required && c->values[i].text == NULL && !(per_database && c->fleet))
			return config_error(c, 0, 0, "missing required key '%s'; add a line '%s: …'%s",
								config_keys[i].name, config_keys[i].name,
								per_database ? " (or databases: for many)" : "");
	}
	return c->fleet ? config_check_fleet_keys(c) : true;
}

/*
 * libyaml's loader has no limits of its own, so a first pass over the
 * parser's events refuses what no migration.yml holds before any document
 * is built: a second document, nesting deeper than CONFIG_MAX_DEPTH, and a
 * scalar longer than CONFIG_MAX_VALUE or holding a NUL (written "\0"),
 * which a C string would cut short.
 */
static bool
check_events(const mk_config *c, const char *data, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, docs = 0;
	bool ok = true, end = false;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
	while (ok && !end) {
		int line, col;

		if (!yaml_parser_parse(&parser, &ev)) {
			ok = yaml_problem(c, &parser);
			break;
		}
		line = (int) ev.start_mark.line + 1;
		col = (int) ev.start_mark.column + 1;
		switch (ev.type) {
			case YAML_STREAM_END_EVENT: end = true; break;
			case YAML_DOCUMENT_START_EVENT:
				if (++docs > 1)
					ok = config_error(c, line, col,
									  "a second YAML document starts here; the file is one mapping: remove "
									  "the '---' and what follows");
				break;
			case YAML_SEQUENCE_START_EVENT:
			case YAML_MAPPING_START_EVENT:
				if (++depth > CONFIG_MAX_DEPTH)
					ok = config_error(c, line, col,
									  "nested more than %d levels deep; the file is a mapping of keys to "
									  "values and lists",
									  CONFIG_MAX_DEPTH);
				break;
			case YAML_SEQUENCE_END_EVENT:
			case YAML_MAPPING_END_EVENT: depth--; break;
			case YAML_SCALAR_EVENT:
				if (ev.data.scalar.length > CONFIG_MAX_VALUE)
					ok = config_error(c, line, col,
									  "a value of %zu bytes; values are at most %d bytes: shorten it",
									  ev.data.scalar.length, CONFIG_MAX_VALUE);
				else if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length))
					ok = config_error(c, line, col, "a value holds a NUL character (\\0); remove it");
				break;
			default: break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ok;
}

mk_config *
config_load_buffer(const char *name, const char *data, size_t len)
{
	mk_config *c = xcalloc(1, sizeof(*c));
	yaml_parser_t parser;
	yaml_document_t doc;
	bool ok;

	c->path = xstrdup(name);
	if (len > CONFIG_MAX_BYTES) {
		config_error(c, 0, 0, "the file is larger than %d MiB; a migration.yml is a few dozen lines",
					 CONFIG_MAX_BYTES >> 20);
		config_free(c);
		return NULL;
	}
	if (!check_events(c, data, len)) {
		config_free(c);
		return NULL;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(c, &parser); /* an alias to an anchor that is not defined */
		yaml_parser_delete(&parser);
		config_free(c);
		return NULL;
	}
	ok = load_mapping(c, &doc) && config_check_sub_conn_user(c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!ok) {
		config_free(c);
		return NULL;
	}
	config_derive_defaults(c);
	return c;
}

/* Reads the file only a little past CONFIG_MAX_BYTES, so a huge one costs no memory. */
mk_config *
config_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	mk_config *c;
	strbuf sb;
	char buf[8192];
	size_t n;

	if (f == NULL) {
		log_error("cannot read %s: %m", path);
		return NULL;
	}
	sb_init(&sb);
	while (sb.len <= CONFIG_MAX_BYTES && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_append_len(&sb, buf, n);
	if (ferror(f)) {
		log_error("cannot read %s: %m", path);
		fclose(f);
		sb_free(&sb);
		return NULL;
	}
	fclose(f);
	c = config_load_buffer(path, sb.data, sb.len);
	sb_free(&sb);
	return c;
}

void
config_free(mk_config *c)
{
	size_t i;
	int j;

	if (c == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		free(c->values[i].text);
		for (j = 0; j < c->values[i].nitems; j++)
			free(c->values[i].items[j]);
		free(c->values[i].items);
	}
	for (j = 0; j < c->ndbs; j++) {
		free(c->dbs[j].src);
		free(c->dbs[j].dst);
	}
	free(c->dbs);
	free(c->path);
	free(c);
}
