/*
 * Reading JSON: the documents the kit keeps in data/ (the helpers' --json,
 * cutover's and rollback's reports, the check and progress records) parsed
 * into a tree, for the commands that read them back.  Strict RFC 8259: one
 * value, no trailing commas, no comments.  Bytes of a string are taken as
 * they are (whoever prints them escapes them for their reader); a \u
 * escape becomes UTF-8, a lone surrogate U+FFFD.
 */
#ifndef MIGKIT_JSON_READ_H
#define MIGKIT_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT } jv_type;

typedef struct jv {
	jv_type type;
	bool boolean;
	double number;
	char *text;        /* a string's value, or a number as written */
	int n;             /* members of an object, items of an array */
	struct jv **items; /* the values, in document order */
	char **keys;       /* an object's member names */
} jv;

/* Where and why a text is not JSON. */
typedef struct jv_error {
	int line; /* from 1 */
	int column;
	char message[160];
} jv_error;

/* Parses len bytes of text; NULL (with err filled) when they are not one JSON value. */
jv *jv_parse(const char *text, size_t len, jv_error *err);
void jv_free(jv *v);

/* An object's member (the last of that name), or NULL: also for a v that is no object. */
const jv *jv_get(const jv *v, const char *key);
/* Members along a dotted path ("lag.bytes"); NULL when one is missing. */
const jv *jv_path(const jv *v, const char *path);
/* An array's item i, or NULL. */
const jv *jv_item(const jv *v, int i);
/* Items of an array; 0 for anything else. */
int jv_count(const jv *v);

/* A string's value, or NULL for anything else (null included). */
const char *jv_str(const jv *v);
/* A number; false for anything else. */
bool jv_num(const jv *v, double *out);
/* A boolean; false for anything else, with *out untouched. */
bool jv_bool(const jv *v, bool *out);
bool jv_is(const jv *v, jv_type type);

/* Shorthands: the member's string (NULL), number (def when not one). */
const char *jv_get_str(const jv *v, const char *path);
double jv_get_num(const jv *v, const char *path, double def);

#endif
