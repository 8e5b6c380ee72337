/*
 * The fast copy's connections: --jobs sessions per side, SRC's each inside
 * the slot's exported snapshot, DST's writing as a replica with a large
 * maintenance_work_mem; and the drop, before the data, of the indexes and
 * constraints the copy builds again after it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "pg.h"
#include "util.h"

/* The text forms of values SRC writes and DST reads must mean the same. */
#define FORMAT_SETTINGS                                                                                      \
	PG_TEXT_SETTINGS ",\n"                                                                                   \
					 "       pg_catalog.set_config('lock_timeout', '0', false),\n"                           \
					 "       pg_catalog.set_config('idle_in_transaction_session_timeout', '0', false),\n"    \
					 "       pg_catalog.set_config('client_min_messages', 'warning', false)"

static const char src_setup[] = FORMAT_SETTINGS;
static const char dst_setup[] =
	FORMAT_SETTINGS ",\n"
					"       pg_catalog.set_config('default_transaction_read_only', 'off', false),\n"
					"       pg_catalog.set_config('synchronous_commit', 'off', false),\n"
					"       pg_catalog.set_config('maintenance_work_mem', $1, false)";

/* Imports the snapshot in a repeatable-read transaction that lasts as long as the connection. */
static bool
import_snapshot(PGconn *src, const char *snapshot, bool *gone)
{
	static const char *const invalid[] = {"22023", NULL};
	char *sql = copy_snapshot_import_sql(snapshot), code[6];
	PGresult *res;

	if (sql == NULL ||
		!pg_exec(src, "SRC", "begin transaction isolation level repeatable read, read only", 0, NULL) ||
		!pg_send(src, "SRC", sql, 0, NULL)) {
		free(sql);
		return false;
	}
	res = pg_receive_expect(src, "SRC", sql, invalid, code);
	free(sql);
	if (res == NULL) {
		*gone = code[0] != '\0';
		return false;
	}
	PQclear(res);
	return true;
}

/* Triggers fire on DST as on a replica; a role that may not ask for it is warned about once. */
static bool
replica_role(PGconn *dst, bool *warned)
{
	static const char *const denied[] = {"42501", NULL};
	static const char sql[] = "set session_replication_role = replica";
	PGresult *res;
	char code[6];

	if (!pg_send(dst, "DST", sql, 0, NULL))
		return false;
	res = pg_receive_expect(dst, "DST", sql, denied, code);
	if (res) {
		PQclear(res);
		return true;
	}
	if (code[0] == '\0')
		return false;
	if (!*warned)
		log_warn(
			"DST's role may not set session_replication_role: the triggers of DST's tables fire during the "
			"copy (as a superuser's they would not)");
	*warned = true;
	return true;
}

bool
copy_pool_open(copy_pool *pool, const copy_options *opt, const copy_state *st, bool need_src, bool *gone)
{
	const char *params[1] = {opt->work_mem};
	bool warned = false;
	int i;

	memset(pool, 0, sizeof(*pool));
	pool->n = opt->jobs;
	*gone = false;
	if (!pg_connect_all("DST", opt->conninfo[1], pool->dst, pool->n, NULL))
		return false;
	for (i = 0; i < pool->n; i++)
		if (!pg_exec(pool->dst[i], "DST", dst_setup, 1, params) || !replica_role(pool->dst[i], &warned))
			return false;
	if (!need_src)
		return true;
	if (!pg_connect_all("SRC", opt->conninfo[0], pool->src, pool->n, src_setup))
		return false;
	for (i = 0; i < pool->n; i++)
		if (!import_snapshot(pool->src[i], st->snapshot, gone))
			return false;
	return true;
}

void
copy_pool_close_src(copy_pool *pool)
{
	int i;

	for (i = 0; i < COPY_MAX_JOBS; i++) {
		pg_finish(pool->src[i]);
		pool->src[i] = NULL;
	}
}

void
copy_pool_close(copy_pool *pool)
{
	int i;

	copy_pool_close_src(pool);
	for (i = 0; i < COPY_MAX_JOBS; i++) {
		pg_finish(pool->dst[i]);
		pool->dst[i] = NULL;
	}
}

/* Runs statements (several in one text) on DST. */
static bool
exec_simple(PGconn *dst, const char *sql)
{
	PGresult *res;

	if (!pg_send_simple(dst, "DST", sql) || (res = pg_receive(dst, "DST", sql)) == NULL)
		return false;
	PQclear(res);
	return true;
}

/* Foreign keys first, then the indexes and the constraints they back: BATCH_DROP to a transaction. */
#define BATCH_DROP 50

bool
copy_drop_deferred(PGconn *dst, copy_state *st)
{
	strbuf sb;
	int step, i, n = 0;
	bool ok = true;

	sb_init(&sb);
	for (step = 3; ok && step >= 1; step--)
		for (i = 0; ok && i < st->ndeferred; i++) {
			if (st->deferred[i]->step != step || st->deferred[i]->done)
				continue;
			if (n == 0)
				sb_append(&sb, "begin;\n");
			sb_printf(&sb, "%s\n", st->deferred[i]->drop_sql);
			if (++n == BATCH_DROP) {
				sb_append(&sb, "commit;");
				ok = exec_simple(dst, sb.data);
				sb_reset(&sb);
				n = 0;
			}
		}
	if (ok && n > 0) {
		sb_append(&sb, "commit;");
		ok = exec_simple(dst, sb.data);
	}
	sb_free(&sb);
	return ok;
}
