/*
 * What every migkit command shares: exit codes, logging, allocation that
 * dies on out-of-memory, a growable string, number parsing and the clock.
 */
#ifndef MIGKIT_UTIL_H
#define MIGKIT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit status, as diff(1): only main() turns a result into one of these. */
#define EXIT_DONE     0 /* done, all good */
#define EXIT_NEGATIVE 1 /* a negative answer: differences, not in sync, blocker */
#define EXIT_TROUBLE  2 /* error: usage, config, connection, SQL */

/* A command's result, returned up to main(). */
typedef enum { RESULT_OK = 0, RESULT_NEGATIVE = 1, RESULT_ERROR = 2 } result_t;

extern const char *progname; /* "migkit" or "migkit seq" for messages */

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NUL-terminated string. */
typedef struct strbuf {
	char *data;
	size_t len;
	size_t cap;
} strbuf;

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_reset(strbuf *sb);
void sb_append(strbuf *sb, const char *s);
void sb_append_len(strbuf *sb, const char *s, size_t len);
void sb_append_char(strbuf *sb, char c);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(strbuf *sb, const char *fmt, va_list ap);
char *sb_steal(strbuf *sb); /* the string; sb is left empty */
/* Appends s with control characters as escapes (\n, \r, \xNN): one line for a message. */
void sb_append_escaped(strbuf *sb, const char *s);

/*
 * A file replaced whole: written to a file beside it (mode MODE), then
 * renamed over it, so that a reader sees the old file or the new one,
 * never part of one.  file_replace_commit flushes (and with DURABLE,
 * fsyncs) and renames; on any failure the temporary file goes, the error
 * is logged once, and false is returned.
 */
typedef struct file_replace {
	FILE *f;
	char *tmp;
	const char *path;
} file_replace;

bool file_replace_open(file_replace *r, const char *path, unsigned mode);
bool file_replace_commit(file_replace *r, bool durable);

/* Parses a whole decimal integer; false when s is not one. */
bool parse_long(const char *s, long *out);

/* Parses a finite decimal number (fractions allowed); false when s is not one. */
bool parse_double(const char *s, double *out);

/* Parses a number of seconds > 0, fractions allowed ("2", "0.5"); false otherwise. */
bool parse_seconds(const char *s, double *out);

/*
 * Parses a byte count: digits with an optional unit B, kB, MB, GB or TB
 * (1024-based, as PostgreSQL's settings; case ignored, a space allowed).
 */
bool parse_bytes(const char *s, long long *out);

/* Monotonic clock in seconds. */
double now_seconds(void);

/* The time of day (epoch seconds, with their fraction). */
double wall_seconds(void);

/*
 * Parses an ISO 8601 time as the kit and the servers write them
 * ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123Z",
 * "2024-05-01 10:00:00.123456+00") into epoch seconds; false otherwise.
 * The zone is required (Z or an offset).
 */
bool parse_timestamp(const char *s, double *out);

#endif
