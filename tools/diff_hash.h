/*
 * The per-row hash of migkit diff --checksum: one SQL expression, built
 * from a table's columns as SRC's catalog describes them, that both sides
 * evaluate over every row.  Pure: it only builds text, so it is tested on
 * its own.
 *
 * Two rows hash alike only when every column would print alike.  A type's
 * own hash function is used only where it is exactly that (integers, oid,
 * uuid, "char", date, time, timestamp, timestamptz, their arrays and
 * ranges); numeric adds its scale (its hash takes 1.0 and 1.00 as one);
 * every other type is hashed through its text, compared byte by byte: an
 * enum by its label (its hash uses the OID, which differs between
 * clusters), a reg* type by the name it prints, float -0 apart from 0,
 * interval '1 day' apart from '24 hours', citext and text under a
 * nondeterministic collation by their exact characters, json and jsonb as
 * they print.  Only functions PostgreSQL 11 already has are used.
 */
#ifndef MIGKIT_DIFF_HASH_H
#define MIGKIT_DIFF_HASH_H

#include <stdbool.h>

/* How a column is hashed (diff_catalog.c decides from its type). */
typedef enum {
	HASH_FN,      /* fn(column, seed): the type's own extended hash function */
	HASH_BOOL,    /* picks the seed of a mixing call */
	HASH_DATE,    /* days from 2000-01-01, infinities apart */
	HASH_TSTZ,    /* UTC wall time, through timestamp's hash */
	HASH_NUMERIC, /* the value's hash mixed with its scale */
	HASH_TEXT     /* its text, byte by byte */
} hash_kind;

/* A column of the table, in attribute order. */
typedef struct hash_column {
	const char *quoted; /* the column name, quoted as an identifier */
	bool notnull;
	hash_kind kind;
	const char *fn; /* for HASH_FN: the function, schema-qualified */
} hash_column;

/* The kind named by the catalog query ("fn", "bool", ...); HASH_TEXT for anything else. */
hash_kind diff_hash_kind(const char *name);

/* The int8 expression hashing one row of those columns; caller frees. */
char *diff_hash_expr(const hash_column *cols, int n);

#endif
