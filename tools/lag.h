/*
 * Replication lag as every migkit step measures it (kit/sql/lag.sql): the
 * bytes of the publishing side's WAL that the subscriber reading a slot
 * has not applied yet.
 */
#ifndef MIGKIT_LAG_H
#define MIGKIT_LAG_H

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct lag_sample {
	bool known; /* the slot was found and reports a position */
	bool slot_found;
	char *src_lsn;     /* the publisher's WAL position */
	char *applied_lsn; /* what the subscriber has applied */
	long long bytes;
} lag_sample;

/*
 * The query of kit/sql/lag.sql for that server, taking $1 the slot; caller
 * frees (NULL, logged, on a defect).
 */
char *lag_sql(int server_version);

/* Fills lag from a row of lag_sql's result (clearing what it held). */
void lag_read(lag_sample *lag, const PGresult *res, int row);

void lag_clear(lag_sample *lag);

#endif
