/*
 * A fleet in migration.yml: the databases: list (names, "all", and
 * "name: name on DST" pairs), the checks that keep its databases' kits
 * apart, "all" completed with SRC's databases, and the configuration of
 * each one database, derived from the keys the fleet's databases share.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"
#include "config_internal.h"

/* The keys each database of a fleet has for itself, derived for it. */
static const char *const per_database_keys[] = {"src_db",   "dst_db",   "src_pg",   "dst_pg",
												"sub_conn", "pub_name", "sub_name", NULL};

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
	if (!config_check_text(c, k, src, line, col) || !config_check_text(c, k, dst, line, col))
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
bool
config_set_databases(mk_config *c, const key_def *k, config_value *v, yaml_document_t *doc, yaml_node_t *node)
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
		return config_error(c, v->line, v->col, "%s must be %s", k->name, config_type_words(k->type));
	}
	c->fleet = true;
	v->set = true;
	return true;
}

/* A fleet derives each database's own keys: none may be given. */
bool
config_check_fleet_keys(mk_config *c)
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
	for (i = 0; i < CONFIG_NKEYS; i++) {
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
		config_value *v = &m->values[config_key_index(j == 0 ? "src_db" : "dst_db")];

		free(v->text);
		v->text = xstrdup(j == 0 ? db->src : db->dst);
		v->set = true;
		v->line = db->line;
		v->col = db->col;
	}
	config_derive_defaults(m);
	return m;
}
