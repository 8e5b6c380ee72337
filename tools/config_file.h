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
	KEY_LIST      /* a sequence of one-line texts */
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
#define CONFIG_MAX_BYTES (1024 * 1024) /* the file, and all list items added up */
#define CONFIG_MAX_VALUE 4096          /* one key, value or list item, in bytes */
#define CONFIG_MAX_DEPTH 16            /* mappings and lists nested in each other */

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

/* The table of keys, ending with a NULL name. */
extern const key_def config_keys[];

#endif
