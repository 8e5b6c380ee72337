/*
 * Reading every sequence of a database, exactly, in one query: what
 * migkit seq copies and migkit diff compares, read the same way, over the
 * database's own relations (kit/sql/relations.sql).
 */
#ifndef MIGKIT_SEQUENCES_H
#define MIGKIT_SEQUENCES_H

#include <stdbool.h>

/*
 * The query reading every sequence of the database with whether the role
 * may read and set it; a sequence it cannot read comes with readable false
 * rather than failing the query, so that all of them can be named at once.
 * Only the sequences picked (the pick patterns) come back.
 * Columns: oid, nspname, relname, qualified, picked, readable, writable,
 * last_value, is_called, increment, min, max; it takes the three
 * parameters of kit/sql/relations.sql (include, exclude, pick).  exact: also read the value
 * of the sequences never called (pg_sequence_last_value() gives NULL for
 * them; is_called is then false); else last_value stays NULL for those.
 * writable: whether the current user may set each one (else NULL).  A
 * superuser's privileges are not asked sequence by sequence.
 * Caller frees; NULL (logged) on a defect.
 */
char *sequences_read_sql(int server_version, bool exact, bool writable);

/* The three patterns of kit/sql/relations.sql that leave out no sequence. */
extern const char *const sequences_no_patterns[3];

/*
 * "with rel as (...)" over the database's own relations, for queries that
 * pick the sequences from it: "materialized " where the server knows the
 * word (12 and later; CTEs of older servers are always materialized).
 */
char *sequences_with_relations(int server_version);
const char *sequences_materialized(int server_version);

#endif
