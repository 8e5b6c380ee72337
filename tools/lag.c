/*
 * Replication lag (see lag.h and kit/sql/lag.sql).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lag.h"
#include "pg.h"
#include "sql.h"
#include "util.h"

char *
lag_sql(int server_version)
{
	static const char *const vars[] = {"slot", NULL};

	return sql_load("lag", server_version, vars);
}

void
lag_clear(lag_sample *lag)
{
	free(lag->src_lsn);
	free(lag->applied_lsn);
	memset(lag, 0, sizeof(*lag));
}

void
lag_read(lag_sample *lag, const PGresult *res, int row)
{
	int c_bytes = pg_col(res, "lag_bytes");

	lag_clear(lag);
	lag->slot_found = pg_bool(res, row, pg_col(res, "slot_found"));
	lag->src_lsn = pg_dup(res, row, pg_col(res, "src_lsn"));
	lag->applied_lsn = pg_dup(res, row, pg_col(res, "applied_lsn"));
	lag->known = pg_text(res, row, c_bytes) != NULL;
	lag->bytes = lag->known ? pg_int(res, row, c_bytes) : 0;
	if (lag->bytes < 0)
		lag->bytes = 0; /* the reply may be ahead of the position read */
}
