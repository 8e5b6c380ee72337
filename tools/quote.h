/*
 * The quoting of values into text another program parses: shell scripts,
 * libpq conninfo strings and URLs.
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

#endif
