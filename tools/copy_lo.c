/*
 * Large objects: logical replication does not carry them, so the fast copy
 * copies them, inside the snapshot like the tables: each one's data, its
 * owner and its privileges, under the same OID (the columns that refer to
 * it hold that OID).  All of them go to DST in one transaction, so a run
 * stopped half-way leaves none behind, and a rerun that finds some (a run
 * stopped after the commit) replaces them.  Changes made to large objects
 * after the snapshot are not copied: the runbook says so.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "pg.h"
#include "quote.h"
#include "util.h"

static const char read_sql[] =
	"select m.oid::text as oid, pg_catalog.lo_get(m.oid) as data,\n"
	"       pg_catalog.concat(pg_catalog.format('ALTER LARGE OBJECT %s OWNER TO %I;', m.oid,\n"
	"                                           pg_catalog.pg_get_userbyid(m.lomowner)),\n"
	"         (select pg_catalog.string_agg(pg_catalog.format(' GRANT %s ON LARGE OBJECT %s TO %s%s;',\n"
	"                   a.privilege_type, m.oid,\n"
	"                   case when a.grantee = 0 then 'PUBLIC'\n"
	"                        else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) end,\n"
	"                   case when a.is_grantable then ' WITH GRANT OPTION' else '' end), '')\n"
	"            from pg_catalog.aclexplode(m.lomacl) a\n"
	"           where a.grantee <> m.lomowner)) as grants\n"
	"  from pg_catalog.pg_largeobject_metadata m\n"
	" where m.oid > $1::pg_catalog.oid\n"
	" order by m.oid\n"
	" limit 50"; /* at a time */

static const char unlink_sql[] =
	"select pg_catalog.lo_unlink(m.oid) from pg_catalog.pg_largeobject_metadata m\n"
	" where m.oid = any ($1::pg_catalog.oid[])";
static const char write_sql[] = "select pg_catalog.lo_from_bytea($1::pg_catalog.oid, $2::pg_catalog.bytea)";

static bool
copy_batch(PGconn *dst, PGresult *res)
{
	strbuf oids, grants;
	const char *params[2];
	bool ok;
	int i;

	sb_init(&oids);
	sb_init(&grants);
	array_begin(&oids);
	for (i = 0; i < PQntuples(res); i++) {
		array_add(&oids, pg_text(res, i, 0));
		sb_append(&grants, pg_text(res, i, 2));
		sb_append_char(&grants, '\n');
	}
	array_end(&oids);
	params[0] = oids.data;
	ok = pg_exec(dst, "DST", unlink_sql, 1, params);
	for (i = 0; ok && i < PQntuples(res); i++) {
		params[0] = pg_text(res, i, 0);
		params[1] = pg_text(res, i, 1);
		ok = pg_exec(dst, "DST", write_sql, 2, params);
	}
	if (ok && PQntuples(res) > 0) {
		PGresult *r = NULL;

		ok = pg_send_simple(dst, "DST", grants.data) && (r = pg_receive(dst, "DST", grants.data)) != NULL;
		PQclear(r);
	}
	sb_free(&oids);
	sb_free(&grants);
	return ok;
}

bool
copy_large_objects(PGconn *src, PGconn *dst, copy_state *st)
{
	PGresult *res;
	char *last = xstrdup("0");
	bool ok;

	res = pg_query(src, "SRC", "select count(*) from pg_catalog.pg_largeobject_metadata", 0, NULL);
	if (res == NULL) {
		free(last);
		return false;
	}
	st->los = pg_int(res, 0, 0);
	PQclear(res);
	if (st->los == 0) {
		st->los_done = true;
		free(last);
		return true;
	}
	ok = pg_exec(dst, "DST", "begin", 0, NULL);
	while (ok) {
		const char *params[1] = {last};

		if ((res = pg_query(src, "SRC", read_sql, 1, params)) == NULL) {
			ok = false;
			break;
		}
		if (PQntuples(res) == 0) {
			PQclear(res);
			break;
		}
		ok = copy_batch(dst, res);
		free(last);
		last = pg_dup(res, PQntuples(res) - 1, 0);
		PQclear(res);
	}
	free(last);
	if (ok)
		ok = pg_exec(dst, "DST", "commit", 0, NULL);
	else if (PQstatus(dst) == CONNECTION_OK)
		(void) pg_exec(dst, "DST", "rollback", 0, NULL);
	st->los_done = ok;
	return ok;
}
