/*
 * The per-row hash of migkit diff --checksum: one SQL expression, built
 * from a table's columns as SRC's catalog describes them, that both sides
 * evaluate over every row.  Pure: it only builds text, so it is tested on
 * its own.
 *
 * Two rows hash alike only when every column would print alike.  A type's
 * own hash function is used only where it takes every bit of the value and
 * always mixes in its seed: int2, int4, oid, "char", uuid, float4
 * and float8 (with -0 told apart from 0); bigint adds its high half (its
 * hash folds the value to 32 bits); a date is its day number; a timestamp
 * (with or without time zone) its seconds from 1970 as float8, which tell
 * every microsecond apart from 1834 to 2106 (outside, its text too); a
 * character(n) its bytes without the trailing spaces, as its text has them,
 * by bpchar's own hash under collation "C" (the same hash as its text's,
 * without the cast to text, which costs several times the hash).
 * Every other
 * type is hashed through its text, byte by byte, under the same session
 * settings on both sides (ISO dates, UTC, the postgres interval style, hex
 * bytea): numeric with its sign, scale, NaN and infinities, bytea, times,
 * arrays with their bounds, ranges, an enum by its label (its hash
 * uses the OID, which differs between clusters), a reg* type by the name it
 * prints, interval '1 day' apart from '24 hours', citext and text under a
 * nondeterministic collation by their exact characters, json and jsonb as
 * they print.  Only functions PostgreSQL 11 already has are used.
 */
#ifndef MIGKIT_DIFF_HASH_H
#define MIGKIT_DIFF_HASH_H

#include <stdbool.h>

/* How a column is hashed (diff_catalog.c decides from its type). */
typedef enum {
	HASH_FN,     /* fn(column, seed): the type's own extended hash function */
	HASH_BOOL,   /* picks the seed of a mixing call */
	HASH_DATE,   /* days from 2000-01-01, infinities apart */
	HASH_INT8,   /* bigint's hash and its high half */
	HASH_EPOCH,  /* timestamp, timestamptz: seconds from 1970 as float8 */
	HASH_FLOAT,  /* the type's hash (fn), -0 apart from 0 */
	HASH_BPCHAR, /* character(n): its bytes without trailing spaces, as its text */
	HASH_TEXT    /* its text, byte by byte */
} hash_kind;

/* A column of the table, in attribute order. */
typedef struct hash_column {
	const char *quoted; /* the column name, quoted as an identifier */
	bool notnull;
	hash_kind kind;
	const char *fn; /* for HASH_FN and HASH_FLOAT: the function, schema-qualified */
} hash_column;

/* The kind named by the catalog query ("fn", "bool", ...); HASH_TEXT for anything else. */
hash_kind diff_hash_kind(const char *name);

/*
 * The int8 expression hashing one row of those columns; caller frees.
 * recode: the two servers' encodings differ, so text is hashed as its
 * UTF-8 bytes.
 */
char *diff_hash_expr(const hash_column *cols, int n, bool recode);

#endif
