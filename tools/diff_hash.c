/*
 * The row-hash expression of migkit diff --checksum (see diff_hash.h).
 *
 * It is built to cost about one function call per column (it runs over
 * every row of both sides, so this is what --checksum costs):
 *
 * - a NOT NULL bigint column (often the key) is the seed, as it is (a
 *   seed is taken whole; where the chain is still that value and is hashed
 *   as a value, its high half is added, see int8_hash);
 * - nullable columns come in groups of up to four, each seeded with the
 *   next: coalesce(h(a, B), hashint8extended(B, ordinal)), so a NULL still
 *   leaves a trace of its column; the first group is seeded with the chain
 *   so far, the others are mixed in with hashint8extended;
 * - a boolean picks the seed of one mixing call with CASE;
 * - every other NOT NULL column is a link: h(column, chain so far).
 *
 * Column order and NULLs count; the chain is cut every 50 links so the
 * expression stays shallow.  Both sides evaluate the same expression.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "diff_hash.h"
#include "util.h"

#define GROUP_SIZE  4
#define CHAIN_LINKS 50

hash_kind
diff_hash_kind(const char *name)
{
	static const struct {
		const char *name;
		hash_kind kind;
	} kinds[] = {
		{"fn", HASH_FN},       {"bool", HASH_BOOL},   {"date", HASH_DATE},     {"int8", HASH_INT8},
		{"float", HASH_FLOAT}, {"epoch", HASH_EPOCH}, {"bpchar", HASH_BPCHAR}, {"text", HASH_TEXT},
	};
	size_t i;

	for (i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return kinds[i].kind;
	return HASH_TEXT;
}

/*
 * The hash of the bigint v seeded with seed: hashint8extended folds v to 32
 * bits (1 and 2^32 hash alike), so its high half is hashed on top.
 */
static char *
int8_hash(const char *v, const char *seed)
{
	return xasprintf("pg_catalog.hashint4extended((%s operator(pg_catalog.>>) 32)::pg_catalog.int4,"
					 " pg_catalog.hashint8extended(%s, %s))",
					 v, v, seed);
}

/*
 * The hash of column c seeded with seed, NULL when the column is NULL
 * (every function used is strict, and so is each CASE below).
 */
static char *
column_hash(const hash_column *c, const char *seed, bool recode)
{
	const char *q = c->quoted;

	switch (c->kind) {
		case HASH_FN: return xasprintf("%s(%s, %s)", c->fn, q, seed);
		case HASH_DATE:
			return xasprintf(
				"pg_catalog.hashint4extended(case when pg_catalog.isfinite(%s)"
				" then %s operator(pg_catalog.-) '2000-01-01'::pg_catalog.date"
				" when %s operator(pg_catalog.>) '2000-01-01'::pg_catalog.date then 2147483647"
				" when %s operator(pg_catalog.<) '2000-01-01'::pg_catalog.date then -2147483647 end, %s)",
				q, q, q, q, seed);
		case HASH_INT8: return int8_hash(q, seed);
		case HASH_EPOCH:
			/*
			 * Seconds from 1970 as a float8 tell every microsecond apart
			 * within 2^32 s of 1970; outside, the text is hashed too.
			 */
			return xasprintf(
				"pg_catalog.hashfloat8extended(pg_catalog.date_part('epoch', %s),"
				" pg_catalog.hashtextextended(case when %s operator(pg_catalog.>=) '1834-01-01'"
				" and %s operator(pg_catalog.<) '2106-01-01' then '' else %s::pg_catalog.text end, %s))",
				q, q, q, q, seed);
		case HASH_FLOAT:
			/* The hash of 0 and of -0 is the seed itself; -0 flips a bit of it. */
			return xasprintf(
				"(%s(%s, %s) operator(pg_catalog.#) case when %s operator(pg_catalog.<>) 0 then 0"
				" when %s::pg_catalog.text operator(pg_catalog.=) '-0' then 1 else 0 end)",
				c->fn, q, seed, q, q);
		case HASH_BPCHAR:
			/*
			 * hashbpcharextended hashes the bytes before the trailing
			 * spaces: those of the text the cast would make (a space is
			 * one byte in every server encoding), so it hashes as
			 * hashtextextended would, at a fraction of the cost.
			 */
			if (!recode)
				return xasprintf("pg_catalog.hashbpcharextended(%s collate pg_catalog.\"C\", %s)", q, seed);
			break;
		case HASH_BOOL:
		case HASH_TEXT: break;
	}
	if (recode)
		/* The text as UTF-8 bytes, whatever the server's encoding. */
		return xasprintf("pg_catalog.hashtextextended(pg_catalog.convert_from(pg_catalog.convert_to("
						 "%s::pg_catalog.text, 'UTF8'), 'SQL_ASCII') collate pg_catalog.\"C\", %s)",
						 q, seed);
	return xasprintf("pg_catalog.hashtextextended(%s::pg_catalog.text collate pg_catalog.\"C\", %s)", q,
					 seed);
}

/*
 * One group of nullable columns cols[idx[0..n-1]]: innermost seed is seed,
 * a bigint column's raw value when raw.
 */
static char *
nullable_group(const hash_column *cols, const int *idx, int n, const char *seed, bool raw, bool recode)
{
	char *inner = xstrdup(seed);
	int i;

	for (i = n - 1; i >= 0; i--) {
		const hash_column *c = &cols[idx[i]];
		int ordinal = idx[i] + 1;
		char *h, *next;

		if (i == n - 1 && strcmp(seed, "0") == 0) {
			char ord[16];

			snprintf(ord, sizeof(ord), "%d", ordinal);
			h = column_hash(c, ord, recode);
			next = xasprintf("coalesce(%s, %d)", h, ordinal);
		} else {
			char ord[16], *none;

			snprintf(ord, sizeof(ord), "%d", ordinal);
			none = raw && i == n - 1 ? int8_hash(inner, ord)
									 : xasprintf("pg_catalog.hashint8extended(%s, %s)", inner, ord);
			h = column_hash(c, inner, recode);
			next = xasprintf("coalesce(%s, %s)", h, none);
			free(none);
		}
		free(h);
		free(inner);
		inner = next;
	}
	return inner;
}

/* Adds one link to the chain, starting a new segment every CHAIN_LINKS. */
static void
chain_link(char **chain, char **segments, int *links, char *link)
{
	free(*chain);
	*chain = link;
	if (++*links % CHAIN_LINKS == 0) {
		char *mixed =
			*segments ? xasprintf("pg_catalog.hashint8extended(%s, %s)", *chain, *segments) : xstrdup(*chain);

		free(*segments);
		*segments = mixed;
		free(*chain);
		*chain = xasprintf("%d", *links);
	}
}

char *
diff_hash_expr(const hash_column *cols, int n, bool recode)
{
	int *group = xcalloc((size_t) n + 1, sizeof(int));
	int i, ng = 0, links = 0, seed_col = -1;
	char *chain, *segments = NULL, *result;
	bool bare; /* chain is a column or a constant: cheap to repeat */
	bool raw;  /* chain is the seed column's value, not yet a hash */

	for (i = 0; i < n && seed_col < 0; i++)
		if (cols[i].notnull && cols[i].kind == HASH_INT8)
			seed_col = i;
	chain = xstrdup(seed_col >= 0 ? cols[seed_col].quoted : "0");
	bare = true;
	raw = seed_col >= 0;

	/* Nullable columns, in groups. */
	for (i = 0; i <= n; i++) {
		if (i < n && !cols[i].notnull && cols[i].kind != HASH_BOOL)
			group[ng++] = i;
		if (ng == GROUP_SIZE || (i == n && ng > 0)) {
			if (bare) {
				chain_link(&chain, &segments, &links, nullable_group(cols, group, ng, chain, raw, recode));
				bare = raw = false;
			} else {
				char *g = nullable_group(cols, group, ng, "0", false, recode);

				chain_link(&chain, &segments, &links,
						   xasprintf("pg_catalog.hashint8extended(%s, %s)", g, chain));
				free(g);
			}
			ng = 0;
		}
	}

	/* Booleans choose the seed of a mixing call; NOT NULL columns link. */
	for (i = 0; i < n; i++) {
		const hash_column *c = &cols[i];
		int ordinal = i + 1;

		if (i == seed_col)
			continue;
		if (c->kind == HASH_BOOL) {
			char *pick = xasprintf("case when %s then %d when not %s then %d else %d end", c->quoted,
								   3 * ordinal, c->quoted, 3 * ordinal + 1, 3 * ordinal + 2);

			chain_link(&chain, &segments, &links,
					   raw ? int8_hash(chain, pick)
						   : xasprintf("pg_catalog.hashint8extended(%s, %s)", chain, pick));
			free(pick);
			raw = false;
		} else if (c->notnull) {
			chain_link(&chain, &segments, &links, column_hash(c, chain, recode));
			raw = false;
		}
	}

	/* Only the seed column, or no column at all: still a hash. */
	if (links == 0 && bare)
		chain_link(&chain, &segments, &links,
				   raw ? int8_hash(chain, "0") : xasprintf("pg_catalog.hashint8extended(%s, 0)", chain));

	if (segments) {
		result = xasprintf("pg_catalog.hashint8extended(%s, %s)", chain, segments);
		free(chain);
		free(segments);
	} else
		result = chain;
	free(group);
	return result;
}
