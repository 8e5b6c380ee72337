/*
 * The connections of a migkit diff run: up to --jobs per side, opened
 * together when they are needed, each session set up the same way so that
 * both servers print and hash values alike.
 */
#include "config.h"

#include <stdlib.h>

#include "diff.h"
#include "pg.h"

const char *const side_name[2] = {"SRC", "DST"};

/*
 * Session settings that make text forms of values mean the same on both
 * sides (keys travel as text from one server to the other, in UTF-8
 * whatever each server's encoding, and the row hash of a type without its
 * own hash function hashes its text), keep the
 * catalog and operator lookups in pg_catalog, make a row-level security
 * policy fail the query rather than hide rows, and make every session
 * read-only.
 */
static const char setup_sql[] =
	PG_TEXT_SETTINGS ",\n"
					 "       pg_catalog.set_config('default_transaction_read_only', 'on', false)";

static bool
session_setup(PGconn *conn, const char *side)
{
	return pg_exec(conn, side, setup_sql, 0, NULL);
}

void
diff_pool_start(diff_run *run, int n)
{
	int s, i;

	if (n > DIFF_MAX_JOBS)
		n = DIFF_MAX_JOBS;
	for (s = 0; s < 2; s++) {
		if (run->conns[s] == NULL)
			run->conns[s] = xcalloc(DIFF_MAX_JOBS, sizeof(PGconn *));
		for (i = run->nstarted; i < n; i++)
			run->conns[s][i] = pg_connect_start(side_name[s], run->opt->conninfo[s]);
	}
	if (n > run->nstarted)
		run->nstarted = n;
}

bool
diff_pool_open(diff_run *run, int n)
{
	int s, i, from = run->nconns;
	bool ok = true;

	if (n > DIFF_MAX_JOBS)
		n = DIFF_MAX_JOBS;
	if (n <= from)
		return true;
	diff_pool_start(run, n);
	for (s = 0; s < 2; s++)
		for (i = from; i < n; i++) {
			if (run->conns[s][i] == NULL || !ok) {
				ok = false;
				continue;
			}
			if (!pg_connect_wait(side_name[s], run->conns[s][i]) ||
				!session_setup(run->conns[s][i], side_name[s]))
				ok = false;
		}
	if (ok)
		run->nconns = n;
	return ok;
}

void
diff_pool_close(diff_run *run)
{
	int s, i;

	for (s = 0; s < 2; s++) {
		for (i = 0; run->conns[s] && i < DIFF_MAX_JOBS; i++)
			pg_finish(run->conns[s][i]);
		free(run->conns[s]);
		run->conns[s] = NULL;
	}
	run->nconns = 0;
	run->nstarted = 0;
}
