/*
 * The one output formatter: aligned text tables for people, JSON for
 * programs, and the terminal facts (colour, width) both need.
 */
#ifndef MIGKIT_OUTPUT_H
#define MIGKIT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* True when out is a terminal and NO_COLOR is unset. */
bool out_color(FILE *out);
bool out_is_tty(FILE *out);
/* Colour escape or "" when colour is off: "red", "green", "yellow", "bold", "reset". */
const char *out_style(FILE *out, const char *name);

typedef struct table table;

table *table_new(int ncols, const char *const *headers);
/* Right-align a column (numbers). */
void table_align_right(table *t, int col);
/* Adds a row; cells are copied (escaped for a terminal, see display_quote), NULL prints as empty. */
void table_add_row(table *t, const char *const *cells);
void table_print(const table *t, FILE *out);
void table_free(table *t);

/* Streaming JSON writer; keys are NULL inside arrays and at the top. */
typedef struct json {
	FILE *out;
	int depth;
	bool first[64];
} json;

void json_init(json *j, FILE *out);
void json_object_begin(json *j, const char *key);
void json_object_end(json *j);
void json_array_begin(json *j, const char *key);
void json_array_end(json *j);
void json_string(json *j, const char *key, const char *value); /* NULL → null */
void json_int(json *j, const char *key, long long value);
void json_double(json *j, const char *key, double value);
void json_bool(json *j, const char *key, bool value);
void json_null(json *j, const char *key);
/* Writes value as a number when it is one (from the server), else null. */
void json_number_text(json *j, const char *key, const char *value);
/* Ends the document with a newline. */
void json_finish(json *j);

/* Formats a byte count as "12.3 MB" into buf. */
const char *format_bytes(double bytes, char *buf, size_t size);
/* Formats seconds as "1h02m", "3m05s", "12.4s". */
const char *format_duration(double seconds, char *buf, size_t size);
/* Formats seconds as "350 ms" under a second, else as format_duration. */
const char *format_seconds(double seconds, char *buf, size_t size);
/* Formats an epoch as an ISO 8601 UTC timestamp with microseconds. */
const char *format_timestamp(double epoch, char *buf, size_t size);

#endif
