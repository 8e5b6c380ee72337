/*
 * What the parts of the migration.yml loader share: config_keys.c (the
 * keys, their checks and errors), config_file.c (the file),
 * config_defaults.c (the keys left out, derived) and config_fleet.c (a
 * fleet's databases: list and each of its databases' configurations).
 * Other modules use config_file.h.
 */
#ifndef MIGKIT_CONFIG_INTERNAL_H
#define MIGKIT_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "config_file.h"

/* The keys config_keys declares, its NULL end not counted. */
#define CONFIG_NKEYS 26

struct mk_config {
	char *path;
	config_value values[CONFIG_NKEYS];
	size_t list_bytes; /* all list items added up, aliases counted each time */
	/* A fleet (databases:): its databases, and whether "all" was asked for. */
	bool fleet, fleet_all;
	int all_line, all_col;
	config_database *dbs;
	int ndbs;
	bool hash_names; /* config_for_database(): derived names end in a hash */
};

/* config_keys.c */

/* The index of a key in config_keys and c->values, or -1 for an unknown name. */
int config_key_index(const char *name);
/* Logs FILE:LINE:COL: message (FILE: message when line is 0); always returns false. */
bool config_error(const mk_config *c, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* What a value of type t is, for "is not ..." and "must be ..." messages. */
const char *config_type_words(key_type t);
/* Refuses a value with a line break, and a name (KEY_NAME, KEY_DATABASES) that is no directory's. */
bool config_check_text(mk_config *c, const key_def *k, const char *text, int line, int col);

/* config_defaults.c */

/* Refuses a sub_conn whose user= is not the repl_user given. */
bool config_check_sub_conn_user(mk_config *c);
/* Derives every key not given; a fleet's per-database names only once src_db is known. */
void config_derive_defaults(mk_config *c);

/* config_fleet.c */

/* databases: at node (v is its entry): all, or a list of names and pairs. */
bool config_set_databases(mk_config *c, const key_def *k, config_value *v, yaml_document_t *doc,
						  yaml_node_t *node);
/* After the whole file: a fleet gives none of its databases' own keys, and its names are apart. */
bool config_check_fleet_keys(mk_config *c);

#endif
