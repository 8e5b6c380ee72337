/*
 * The one place where text is quoted or escaped for another reader: shell
 * scripts, libpq conninfo strings, URLs, PostgreSQL array literals (values
 * sent as $n parameters), JSON strings, Prometheus label values, HTML, and
 * a terminal.  Text that came from the data or the catalog passes through
 * one of these before it is printed.
 */
#ifndef MIGKIT_QUOTE_H
#define MIGKIT_QUOTE_H

#include <stdbool.h>

#include "util.h"

/*
 * Appends s to sb as one shell word: bare when it is made only of safe
 * characters, else single-quoted with each ' written as '\''.  Refuses
 * (returns false, appends nothing) a value holding a newline or carriage
 * return, which no config value may carry.
 */
bool shell_quote(strbuf *sb, const char *s);

/* Appends s as a libpq conninfo value: bare when safe, else '…' with \ and ' escaped. */
void conninfo_quote(strbuf *sb, const char *s);

/* Appends s percent-encoded for the user or database part of a postgres:// URL. */
void url_encode(strbuf *sb, const char *s);

/*
 * A PostgreSQL array literal built item by item, for a $n parameter of
 * type text[], oid[], int8[] or bool[]: "{" on begin, each item
 * double-quoted with " and \ escaped (NULL: the item NULL), "}" on end.
 */
void array_begin(strbuf *sb);
void array_add(strbuf *sb, const char *item);
void array_end(strbuf *sb);

/*
 * Appends s as a JSON string, quotes included: ", \ and control characters
 * escaped, and each byte that is not part of valid UTF-8 written as U+FFFD,
 * so the document is valid whatever the data held.
 */
void json_quote(strbuf *sb, const char *s);

/* Appends s as a Prometheus label value (no quotes): \, " and newline escaped. */
void prom_quote(strbuf *sb, const char *s);

/*
 * Appends s for a terminal: control characters (escape sequences, newlines,
 * DEL, C1) written as \xNN and invalid UTF-8 as \xNN, so that text from the
 * data can neither move the cursor nor fake a line of output.
 */
void display_quote(strbuf *sb, const char *s);

/* display_quote into a buffer of its own; caller frees. */
char *display_text(const char *s);

/*
 * Appends s as HTML text, fit for an element's content and a quoted
 * attribute value alike: & < > " ' as character references, control
 * characters but newline and tab, and bytes that are not valid UTF-8, as
 * \xNN (as display_quote writes them), so that text from the data is
 * never markup.
 */
void html_quote(strbuf *sb, const char *s);

/*
 * The value of one shell word as shell_quote writes it (bare characters,
 * '...' and \' between them); NULL for any other form, which it does not
 * try to expand.  Caller frees.
 */
char *shell_unquote(const char *word);

#endif
