/*
 * Access to kit/sql/NAME.sql for the C helpers (see sql.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "pg.h"
#include "sql.h"
#include "util.h"

const char *
embedded_lookup(const char *name)
{
	const struct embedded_file *e;

	for (e = embedded_files; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e->data;
	return NULL;
}

/* The embedded file for NAME on a server of that version (see sql_load). */
static const char *
variant(const char *name, int server_version, const char **path)
{
	const struct embedded_file *e;
	const char *best = NULL;
	int major = server_version / 10000, best_nn = 0;
	char *prefix = xasprintf("kit/sql/%s-pg", name);
	size_t plen = strlen(prefix);

	for (e = embedded_files; e->name; e++) {
		long nn;
		char *digits;

		if (strncmp(e->name, prefix, plen) != 0)
			continue;
		digits = xstrdup(e->name + plen);
		if (strlen(digits) > 4 && strcmp(digits + strlen(digits) - 4, ".sql") == 0) {
			digits[strlen(digits) - 4] = '\0';
			if (parse_long(digits, &nn) && nn >= major && (best == NULL || nn < best_nn)) {
				best = e->data;
				best_nn = (int) nn;
				*path = e->name;
			}
		}
		free(digits);
	}
	free(prefix);
	if (best)
		return best;
	prefix = xasprintf("kit/sql/%s.sql", name);
	best = embedded_lookup(prefix);
	free(prefix);
	*path = best ? name : NULL;
	return best;
}

/*
 * Copies a quoted literal, identifier or comment of sql as it is (psql does
 * not expand variables in them), returning the position after it.
 */
static const char *
copy_quoted(strbuf *sb, const char *p)
{
	const char *start = p;

	if (p[0] == '-' && p[1] == '-') {
		while (*p && *p != '\n')
			p++;
	} else if (*p == '\'' || *p == '"') {
		char q = *p++;

		while (*p) {
			if (*p == q && p[1] == q)
				p += 2;
			else if (*p == q) {
				p++;
				break;
			} else
				p++;
		}
	} else
		p++;
	sb_append_len(sb, start, (size_t) (p - start));
	return p;
}

char *
sql_load(const char *name, int server_version, const char *const *vars)
{
	const char *path = NULL;
	const char *text = variant(name, server_version, &path), *p;
	strbuf sb;

	if (text == NULL) {
		log_error("internal error: no kit/sql/%s.sql in this migkit", name);
		return NULL;
	}
	sb_init(&sb);
	for (p = text; *p;) {
		if (p[0] == ':' && p[1] == '\'') {
			const char *end = strchr(p + 2, '\''), *eq = NULL;
			size_t len = end ? (size_t) (end - (p + 2)) : 0;
			int k;

			for (k = 0; end && vars && vars[k]; k++) {
				eq = strchr(vars[k], '=');
				if ((eq ? (size_t) (eq - vars[k]) : strlen(vars[k])) == len &&
					strncmp(p + 2, vars[k], len) == 0)
					break;
			}
			if (end == NULL || vars == NULL || vars[k] == NULL) {
				log_error("internal error: kit/sql/%s.sql uses a variable migkit does not give it (%.20s)",
						  name, p);
				sb_free(&sb);
				return NULL;
			}
			if (eq)
				sb_append(&sb, eq + 1);
			else
				sb_printf(&sb, "$%d", k + 1);
			p = end + 1;
		} else if (p[0] == ':' && p[1] == ':') {
			sb_append(&sb, "::");
			p += 2;
		} else if (*p == '\'' || *p == '"' || (p[0] == '-' && p[1] == '-'))
			p = copy_quoted(&sb, p);
		else
			sb_append_char(&sb, *p++);
	}
	return sb_steal(&sb);
}

char *
sql_tables(int server_version)
{
	static const char *const vars[] = {"include", "exclude", "pick", NULL};
	char *rel = sql_load("relations", server_version, vars), *q;

	if (rel == NULL)
		return NULL;
	q = xasprintf("select r.oid, r.schema_name, r.name, r.qualified, r.partitioned, r.picked\n"
				  "  from (%s) r\n"
				  " where r.in_migration",
				  rel);
	free(rel);
	return q;
}

bool
sql_distinct_sides(PGconn *src, PGconn *dst, const char *what, char **src_role, char **dst_role)
{
	char *sql = sql_load("identity", PQserverVersion(src), NULL);
	pg_request req[2] = {{src, "SRC", sql, 0, NULL, NULL}, {dst, "DST", sql, 0, NULL, NULL}};
	bool same;

	if (sql == NULL || !pg_query_all(req, 2, NULL, NULL)) {
		free(sql);
		return false;
	}
	free(sql);
	same = strcmp(pg_text(req[0].res, 0, pg_col(req[0].res, "identity")),
				  pg_text(req[1].res, 0, pg_col(req[1].res, "identity"))) == 0;
	if (same)
		log_error(
			"SRC and DST are the same database (%s on the cluster with system identifier %s): refusing to %s",
			pg_text(req[0].res, 0, pg_col(req[0].res, "database")),
			pg_text(req[0].res, 0, pg_col(req[0].res, "system_identifier")), what);
	if (src_role)
		*src_role = pg_dup(req[0].res, 0, pg_col(req[0].res, "role_name"));
	if (dst_role)
		*dst_role = pg_dup(req[1].res, 0, pg_col(req[1].res, "role_name"));
	PQclear(req[0].res);
	PQclear(req[1].res);
	return !same;
}

static const char *
list_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : "[]";
}

const char *
sql_include(void)
{
	return list_env("MIGKIT_INCLUDE");
}

const char *
sql_exclude(void)
{
	return list_env("MIGKIT_EXCLUDE");
}
