/*
 * The migration config (migration.yml): a table of allowed keys, parsed with
 * libyaml, every error reported as FILE:LINE:COL, and the defaults derived
 * the way the original kit derived them.
 */
#ifndef MIGKIT_CONFIG_FILE_H
#define MIGKIT_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	KEY_STRING,   /* any one-line text */
	KEY_NAME,     /* one-line text usable in a directory name: no '/' */
	KEY_CONNINFO, /* a libpq URL or key=value string, without a password */
	KEY_OBJECT,   /* a publication's name: short enough for its _reverse sibling */
	KEY_SLOT,     /* a subscription's name, which its slot takes: [a-z0-9_], short enough */
	KEY_PORT,     /* 1..65535 */
	KEY_INT,      /* a whole number >= 0 */
	KEY_BOOL,     /* true/false */
	KEY_LIST,     /* a sequence of one-line texts */
	KEY_DATABASES /* all, or a list of database names and name: name-on-DST pairs */
} key_type;

typedef struct key_def {
	const char *name;
	key_type type;
	bool required;
} key_def;

typedef struct config_value {
	bool set;     /* given in the file (not derived) */
	char *text;   /* scalar value, given or derived; NULL if none */
	char **items; /* KEY_LIST items */
	int nitems;
	int line, col; /* where it was given, 1-based */
} config_value;

typedef struct mk_config mk_config;

/*
 * PostgreSQL's names hold at most 63 bytes, and the way back adds
 * "_reverse" to the publication's and the subscription's.
 */
#define CONFIG_MAX_OBJECT (63 - 8)

/* Limits: a migration.yml is a few dozen short lines (migkit.yml(5)). */
#define CONFIG_MAX_BYTES     (1024 * 1024) /* the file, and all list items added up */
#define CONFIG_MAX_VALUE     4096          /* one key, value or list item, in bytes */
#define CONFIG_MAX_DEPTH     16            /* mappings and lists nested in each other */
#define CONFIG_MAX_DATABASES 4096          /* the databases of one fleet */

/* Reads and validates path; logs FILE:LINE:COL: message and returns NULL on any error. */
mk_config *config_load(const char *path);
/* The same for len bytes of YAML text; name stands for the file in messages. */
mk_config *config_load_buffer(const char *name, const char *data, size_t len);
void config_free(mk_config *c);

/* The value of a key (given or derived), or NULL for an unset optional key. */
const char *config_get(const mk_config *c, const char *name);
/* The whole entry for a key, or NULL for an unknown name. */
const config_value *config_entry(const mk_config *c, const char *name);
/* A list key's items as a JSON array text ("[]" when empty); caller frees. */
char *config_list_json(const mk_config *c, const char *name);
const char *config_path(const mk_config *c);

/*
 * A fleet: databases: names many databases of SRC (or all of them), each
 * migrated by a kit of its own.  Its configuration holds the keys the
 * databases share; config_for_database() gives one database's.
 */
typedef struct config_database {
	char *src;     /* the database on SRC */
	char *dst;     /* its name on DST */
	int line, col; /* where it was listed; 0 for one found by "all" */
} config_database;

/* True when the configuration names its databases with databases:. */
bool config_is_fleet(const mk_config *c);
/* True when databases: holds all: SRC's list is needed (config_fleet_resolve). */
bool config_fleet_all(const mk_config *c);
/*
 * Completes "all" with the databases SRC has (names, n of them): each one
 * but postgres that is not listed moves under its own name.  Logs
 * FILE:LINE:COL and returns false when a listed one is not among them, or
 * when two would move into one DST database.
 */
bool config_fleet_resolve(mk_config *c, char *const *names, int n);
/* The fleet's databases in order (resolved, when "all"); returns how many. */
int config_fleet_databases(const mk_config *c, const config_database **dbs);
/*
 * The configuration of the one database db of fleet c: every shared key as
 * given, src_db and dst_db from db, and the rest derived for it.  With
 * hash_names the derived pub_name and sub_name end in a hash of what they
 * were made from, which keeps apart two databases whose names would
 * otherwise give one.  Free it with config_free().
 */
mk_config *config_for_database(const mk_config *c, const config_database *db, bool hash_names);

/* The table of keys, ending with a NULL name. */
extern const key_def config_keys[];

#endif
