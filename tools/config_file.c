/*
 * Loading migration.yml.  Every key is declared once in config_keys; an
 * unknown key, a wrong type, a missing required key, a value with a
 * newline or input past the limits in config_file.h stops the load with
 * FILE:LINE:COL and the fix.
 */
#include "config.h"

#include <libpq-fe.h>
#include <stdint.h>
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

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]) - 1)

struct mk_config {
	char *path;
	config_value values[NKEYS];
	size_t list_bytes; /* all list items added up, aliases counted each time */
	/* A fleet (databases:): its databases, and whether "all" was asked for. */
	bool fleet, fleet_all;
	int all_line, all_col;
	config_database *dbs;
	int ndbs;
	bool hash_names; /* config_for_database(): derived names end in a hash */
};

/* The keys each database of a fleet has for itself, derived for it. */
static const char *const per_database_keys[] = {"src_db",   "dst_db",   "src_pg",   "dst_pg",
												"sub_conn", "pub_name", "sub_name", NULL};

static int
key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return (int) i;
	return -1;
}

/*
 * Logs one config error at a position; always returns false.  Control
 * characters from the file (a key may hold a line break) are written as
 * escapes, so the message stays one line.
 */
static bool __attribute__((format(printf, 4, 5)))
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

/* Logs what libyaml's parser or loader stopped at; returns false. */
static bool
yaml_problem(const mk_config *c, const yaml_parser_t *parser)
{
	return config_error(c, (int) parser->problem_mark.line + 1, (int) parser->problem_mark.column + 1,
						"not valid YAML: %s%s%s", parser->problem ? parser->problem : "syntax error",
						parser->context ? " " : "", parser->context ? parser->context : "");
}

static const char *
type_words(key_type t)
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

static bool
check_text(mk_config *c, const key_def *k, const char *text, int line, int col)
{
	if (strchr(text, '\n') || strchr(text, '\r'))
		return config_error(c, line, col, "%s: value holds a line break; write it on one line", k->name);
	if ((k->type == KEY_NAME || k->type == KEY_DATABASES) &&
		(strchr(text, '/') || strcmp(text, ".") == 0 || strcmp(text, "..") == 0))
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
		if (!check_text(c, k, (const char *) item->data.scalar.value, line, col))
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
is_plain(const yaml_node_t *node, const char *text)
{
	return node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   strcmp((const char *) node->data.scalar.value, text) == 0;
}

static void
add_database(mk_config *c, const char *src, const char *dst, int line, int col)
{
	config_database *db;

	c->dbs = xrealloc(c->dbs, sizeof(config_database) * (size_t) (c->ndbs + 1));
	db = &c->dbs[c->ndbs++];
	db->src = xstrdup(src);
	db->dst = xstrdup(dst);
	db->line = line;
	db->col = col;
}

/*
 * Where to point at a fleet's database: the item that lists it, else
 * (found on SRC for "all") the other one's, else "all".
 */
static void
db_position(const mk_config *c, const config_database *a, const config_database *b, int *line, int *col)
{
	const config_database *at = a->line ? a : (b && b->line ? b : NULL);

	*line = at ? at->line : c->all_line;
	*col = at ? at->col : c->all_col;
}

/*
 * The names of a fleet's databases are refused where the kits could not
 * keep them apart: one listed twice, two moving into one DST database, and
 * "fleet", whose kit would be the fleet's own directory.
 */
static bool
check_databases(mk_config *c)
{
	int i, j, line, col;

	for (i = 0; i < c->ndbs; i++) {
		const config_database *a = &c->dbs[i];

		db_position(c, a, NULL, &line, &col);
		if (strcmp(a->src, "fleet") == 0)
			return config_error(
				c, line, col,
				"databases: a database named 'fleet' would take the fleet's directory "
				"(%s.fleet) as its kit; migrate it with a migration.yml of its own (src_db: fleet)",
				config_get(c, "src_cls"));
		for (j = 0; j < i; j++) {
			const config_database *b = &c->dbs[j];

			if (strcmp(a->src, b->src) == 0)
				return config_error(c, line, col,
									"databases: '%s' is listed twice (first at line %d); keep one", a->src,
									b->line);
			db_position(c, a, b, &line, &col);
			if (strcmp(a->dst, b->dst) == 0)
				return config_error(
					c, line, col,
					"databases: '%s' and '%s' would both move into the DST database '%s'; map "
					"one of them to another name ('- %s: %s_new')",
					b->src, a->src, a->dst, a->line ? a->src : b->src, a->dst);
		}
	}
	return true;
}

/* One item of databases: a name, "all", or one "name: name on DST" pair. */
static bool
set_database_item(mk_config *c, const key_def *k, yaml_document_t *doc, yaml_node_t *item)
{
	int line = (int) item->start_mark.line + 1, col = (int) item->start_mark.column + 1;
	const char *src, *dst;

	if (is_plain(item, "all")) {
		if (c->fleet_all)
			return config_error(c, line, col, "%s: all is given twice (first at line %d); keep one", k->name,
								c->all_line);
		c->fleet_all = true;
		c->all_line = line;
		c->all_col = col;
		return true;
	}
	if (item->type == YAML_SCALAR_NODE) {
		src = dst = (const char *) item->data.scalar.value;
	} else if (item->type == YAML_MAPPING_NODE &&
			   item->data.mapping.pairs.top > item->data.mapping.pairs.start) {
		yaml_node_pair_t *pairs = item->data.mapping.pairs.start;
		yaml_node_t *kn = yaml_document_get_node(doc, pairs[0].key);
		yaml_node_t *vn = yaml_document_get_node(doc, pairs[0].value);

		if (item->data.mapping.pairs.top - pairs > 1) {
			yaml_node_t *extra = yaml_document_get_node(doc, pairs[1].key);

			if (extra->type == YAML_SCALAR_NODE)
				return config_error(c, (int) extra->start_mark.line + 1, (int) extra->start_mark.column + 1,
									"%s: unknown key '%s' in an item; an item is a database name or one "
									"'name on SRC: name on DST' pair (- shop: shop_v2), and the fleet's "
									"other keys go at the top level",
									k->name, (const char *) extra->data.scalar.value);
			goto bad;
		}
		if (kn->type != YAML_SCALAR_NODE)
			goto bad;
		if (vn->type != YAML_SCALAR_NODE)
			return config_error(c, (int) vn->start_mark.line + 1, (int) vn->start_mark.column + 1,
								"%s: '%s' maps to a %s; write its name on DST (- %s: %s_v2)", k->name,
								(const char *) kn->data.scalar.value,
								vn->type == YAML_MAPPING_NODE ? "mapping" : "list",
								(const char *) kn->data.scalar.value, (const char *) kn->data.scalar.value);
		src = (const char *) kn->data.scalar.value;
		dst = (const char *) vn->data.scalar.value;
	} else {
		goto bad;
	}
	if (*src == '\0' || *dst == '\0')
		return config_error(c, line, col, "%s: a database name is empty; write it, or remove the item",
							k->name);
	if (!check_text(c, k, src, line, col) || !check_text(c, k, dst, line, col))
		return false;
	if (c->ndbs >= CONFIG_MAX_DATABASES)
		return config_error(c, line, col, "%s: more than %d databases; split them into several fleets",
							k->name, CONFIG_MAX_DATABASES);
	/* An alias repeats its anchor's text without making the file longer. */
	c->list_bytes += strlen(src) + strlen(dst);
	if (c->list_bytes > CONFIG_MAX_BYTES)
		return config_error(
			c, line, col,
			"%s: the names add up to more than %d MiB; write fewer (an alias *name repeats its "
			"anchor's value)",
			k->name, CONFIG_MAX_BYTES >> 20);
	add_database(c, src, dst, line, col);
	return true;
bad:
	return config_error(
		c, line, col,
		"%s: each item is a database name, all, or one 'name: name on DST' pair (- shop: shop_v2)", k->name);
}

/* databases: all, or a list of items (set_database_item). */
static bool
set_databases(mk_config *c, const key_def *k, config_value *v, yaml_document_t *doc, yaml_node_t *node)
{
	yaml_node_item_t *it;

	if (node->type == YAML_SCALAR_NODE) {
		const char *text = (const char *) node->data.scalar.value;

		if (is_plain(node, ""))
			return true; /* "databases:" with nothing: as if absent */
		if (!is_plain(node, "all"))
			return config_error(
				c, v->line, v->col,
				"%s: '%s' is neither all nor a list; write [%s] for a fleet of one, or src_db and dst_db",
				k->name, text, text);
		if (!set_database_item(c, k, doc, node))
			return false;
	} else if (node->type == YAML_SEQUENCE_NODE) {
		for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++)
			if (!set_database_item(c, k, doc, yaml_document_get_node(doc, *it)))
				return false;
		if (c->ndbs == 0 && !c->fleet_all)
			return config_error(c, v->line, v->col, "%s: the list is empty; name the databases, or write all",
								k->name);
	} else {
		return config_error(c, v->line, v->col, "%s must be %s", k->name, type_words(k->type));
	}
	c->fleet = true;
	v->set = true;
	return true;
}

/* A fleet derives each database's own keys: none may be given. */
static bool
check_fleet_keys(mk_config *c)
{
	const config_value *dbs = config_entry(c, "databases");
	const char *const *name;

	for (name = per_database_keys; *name; name++) {
		const config_value *v = config_entry(c, *name);

		if (v->set)
			return config_error(
				c, v->line, v->col,
				"%s cannot be given with databases (line %d): each database's %s is derived for "
				"it; remove this line, or remove databases and migrate one database",
				*name, dbs->line, *name);
	}
	return check_databases(c);
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

		if (k->type == KEY_DATABASES) {
			if (!set_databases(c, k, v, doc, vn))
				return false;
		} else if (k->type == KEY_LIST) {
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

	for (i = 0; i < NKEYS; i++) {
		bool per_database =
			strcmp(config_keys[i].name, "src_db") == 0 || strcmp(config_keys[i].name, "dst_db") == 0;

		if (config_keys[i].required && c->values[i].text == NULL && !(per_database && c->fleet))
			return config_error(c, 0, 0, "missing required key '%s'; add a line '%s: …'%s",
								config_keys[i].name, config_keys[i].name,
								per_database ? " (or databases: for many)" : "");
	}
	return c->fleet ? check_fleet_keys(c) : true;
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

/*
 * <prefix>_<src_cls>_<src_db>, made a valid replication slot name (a
 * subscription's slot takes its name): lower case, every other byte than
 * a-z, 0-9 and _ written as _, and when longer than CONFIG_MAX_OBJECT, cut
 * and ended with 8 hex digits of a hash of the whole, so that two long
 * names still differ.
 */
static char *
derive_object_name(const mk_config *c, const char *prefix)
{
	char *s = xasprintf("%s_%s_%s", prefix, config_get(c, "src_cls"), config_get(c, "src_db"));
	uint32_t h = 2166136261u; /* FNV-1a */
	unsigned char *p;

	for (p = (unsigned char *) s; *p; p++) {
		h = (h ^ *p) * 16777619u;
		if (*p >= 'A' && *p <= 'Z')
			*p = (unsigned char) (*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			*p = '_';
	}
	if (strlen(s) > CONFIG_MAX_OBJECT || c->hash_names) {
		char *cut = xasprintf("%.*s_%08x", CONFIG_MAX_OBJECT - 9, s, (unsigned) h);

		free(s);
		s = cut;
	}
	return s;
}

/* The user= of a connection string, or NULL (none given, or none at all). */
static char *
conninfo_user(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *user = NULL;

	if (conninfo == NULL || (opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return NULL;
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "user") == 0 && o->val && *o->val)
			user = xstrdup(o->val);
	PQconninfoFree(opts);
	return user;
}

/*
 * The subscription connects as the replication user: when sub_conn names a
 * user, repl_user (given) is that user.
 */
static bool
check_sub_conn_user(mk_config *c)
{
	const config_value *conn = config_entry(c, "sub_conn"), *repl = config_entry(c, "repl_user");
	char *user = conninfo_user(conn->text);
	bool ok = true;

	if (user && repl->set && strcmp(user, repl->text) != 0)
		ok = config_error(c, conn->line, conn->col,
						  "sub_conn connects as '%s' but repl_user is '%s': the subscription's user is the "
						  "replication user; make them the same, or remove repl_user",
						  user, repl->text);
	free(user);
	return ok;
}

static void
derive_defaults(mk_config *c)
{
	strbuf sb;
	const config_value *port = config_entry(c, "src_port");

	derive(c, "context_dir", xstrdup("~/migration"));
	derive(c, "admin_user", xstrdup("dbuser_dba"));
	derive(c, "repl_user", conninfo_user(config_get(c, "sub_conn")));
	derive(c, "repl_user", xstrdup("replicator"));
	derive(c, "src_port", xstrdup("5432"));
	derive(c, "dst_port", xstrdup("5432"));
	derive(c, "seq_shift", xstrdup("0"));
	derive(c, "lag_max_bytes", xstrdup("1048576"));
	derive(c, "lag_max_seconds", xstrdup("5"));
	derive(c, "heartbeat", xstrdup("false"));
	derive(c, "wal_budget_bytes", xstrdup("0"));
	if (config_get(c, "src_db") == NULL)
		return; /* a fleet: config_for_database() derives each database's names */
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
	ok = load_mapping(c, &doc) && check_sub_conn_user(c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!ok) {
		config_free(c);
		return NULL;
	}
	derive_defaults(c);
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
	for (i = 0; i < NKEYS; i++) {
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

bool
config_is_fleet(const mk_config *c)
{
	return c->fleet;
}

bool
config_fleet_all(const mk_config *c)
{
	return c->fleet_all;
}

int
config_fleet_databases(const mk_config *c, const config_database **dbs)
{
	*dbs = c->dbs;
	return c->ndbs;
}

bool
config_fleet_resolve(mk_config *c, char *const *names, int n)
{
	int listed = c->ndbs, i, j;

	for (i = 0; i < listed; i++) {
		for (j = 0; j < n && strcmp(names[j], c->dbs[i].src) != 0; j++)
			;
		if (j == n)
			return config_error(c, c->dbs[i].line, c->dbs[i].col,
								"databases: SRC has no database '%s' that %s may connect to; remove it, or "
								"create it on SRC",
								c->dbs[i].src, config_get(c, "admin_user"));
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < listed && strcmp(names[j], c->dbs[i].src) != 0; i++)
			;
		if (i == listed && strcmp(names[j], "postgres") != 0) {
			if (c->ndbs >= CONFIG_MAX_DATABASES)
				return config_error(
					c, c->all_line, c->all_col,
					"databases: all: SRC has more than %d databases; list them in several fleets",
					CONFIG_MAX_DATABASES);
			add_database(c, names[j], names[j], 0, 0);
		}
	}
	if (c->ndbs == 0)
		return config_error(c, c->all_line, c->all_col,
							"databases: all: SRC has no database to migrate but postgres; list postgres to "
							"migrate it");
	c->fleet_all = false;
	return check_databases(c);
}

mk_config *
config_for_database(const mk_config *c, const config_database *db, bool hash_names)
{
	mk_config *m = xcalloc(1, sizeof(*m));
	size_t i;
	int j;

	m->path = xstrdup(c->path);
	m->list_bytes = c->list_bytes;
	m->hash_names = hash_names;
	for (i = 0; i < NKEYS; i++) {
		const config_value *from = &c->values[i];
		config_value *to = &m->values[i];

		if (config_keys[i].type == KEY_DATABASES)
			continue; /* one database: no longer a fleet */
		*to = *from;
		to->text = from->text ? xstrdup(from->text) : NULL;
		to->items = from->nitems ? xcalloc((size_t) from->nitems, sizeof(char *)) : NULL;
		for (j = 0; j < from->nitems; j++)
			to->items[j] = xstrdup(from->items[j]);
	}
	for (j = 0; j < 2; j++) {
		config_value *v = &m->values[key_index(j == 0 ? "src_db" : "dst_db")];

		free(v->text);
		v->text = xstrdup(j == 0 ? db->src : db->dst);
		v->set = true;
		v->line = db->line;
		v->col = db->col;
	}
	derive_defaults(m);
	return m;
}
