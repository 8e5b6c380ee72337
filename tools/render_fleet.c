/*
 * migkit render for a fleet: the configuration's databases: (for "all",
 * those SRC has) each get the kit a one-database configuration would get,
 * in <dir>/<src_cls>.<src_db>, and the fleet gets its own directory,
 * <dir>/<src_cls>.fleet: the fleet script, which runs one step across the
 * kits, its library and the fleet's runbook.  As for one kit, everything is
 * rendered in memory and every target checked before anything is written.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "quote.h"
#include "render.h"

/* One database of the fleet: its configuration and kit. */
typedef struct member {
	mk_config *cfg;
	char *kit_dir;
	char *context;
	rendered *files;
	int nfiles;
} member;

/*
 * The databases of SRC that "all" stands for: those admin_user may connect
 * to, templates left out, asked of SRC's postgres database.
 */
static bool
resolve_all(mk_config *cfg)
{
	static const char sql[] = "select d.datname from pg_catalog.pg_database d"
							  " where d.datallowconn and not d.datistemplate"
							  "   and pg_catalog.has_database_privilege(d.datname, 'CONNECT')"
							  " order by d.datname";
	const config_value *where = config_entry(cfg, "databases");
	config_database maintenance = {"postgres", "postgres", 0, 0};
	mk_config *m = config_for_database(cfg, &maintenance, false);
	char *side = xasprintf("SRC to list its databases (%s:%d:%d: databases: all)", config_path(cfg),
						   where->line, where->col);
	PGconn *conn = pg_connect(side, config_get(m, "src_pg"));
	PGresult *res = conn ? pg_query(conn, side, sql, 0, NULL) : NULL;
	char **names = NULL;
	int n = 0, i;
	bool ok = false;

	if (res) {
		n = PQntuples(res);
		names = xcalloc((size_t) (n ? n : 1), sizeof(char *));
		for (i = 0; i < n; i++)
			names[i] = pg_dup(res, i, 0);
		ok = config_fleet_resolve(cfg, names, n);
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		PQclear(res);
	}
	pg_finish(conn);
	config_free(m);
	free(side);
	return ok;
}

/* Whether two kits' derived names would meet on a server: a slot's name is the cluster's. */
static bool
names_meet(const mk_config *a, const mk_config *b)
{
	const char *sa = config_get(a, "sub_name"), *sb = config_get(b, "sub_name");
	size_t la = strlen(sa), lb = strlen(sb);

	return strcmp(sa, sb) == 0 || strcmp(config_get(a, "pub_name"), config_get(b, "pub_name")) == 0 ||
		   (la == lb + 8 && strncmp(sa, sb, lb) == 0 && strcmp(sa + lb, "_reverse") == 0) ||
		   (lb == la + 8 && strncmp(sb, sa, la) == 0 && strcmp(sb + la, "_reverse") == 0);
}

/*
 * Each database's configuration.  Names derived from two databases may
 * meet (Shop and shop both give sub_<cls>_shop): those databases get names
 * that end in a hash of what they were made from.
 */
static bool
derive_members(const mk_config *cfg, member *members, int n)
{
	const config_database *dbs;
	bool *meets = xcalloc((size_t) (n ? n : 1), sizeof(bool));
	bool ok = true;
	int i, j;

	config_fleet_databases(cfg, &dbs);
	for (i = 0; i < n; i++)
		members[i].cfg = config_for_database(cfg, &dbs[i], false);
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (names_meet(members[i].cfg, members[j].cfg))
				meets[i] = meets[j] = true;
	for (i = 0; i < n; i++) {
		if (meets[i]) {
			config_free(members[i].cfg);
			members[i].cfg = config_for_database(cfg, &dbs[i], true);
		}
	}
	for (i = 0; i < n && ok; i++)
		for (j = 0; j < i && ok; j++)
			if (names_meet(members[i].cfg, members[j].cfg)) {
				log_error(
					"%s: the databases '%s' and '%s' give the same subscription or publication name (%s); "
					"migrate one of them with a migration.yml of its own, with its own sub_name and pub_name",
					config_path(cfg), dbs[j].src, dbs[i].src, config_get(members[i].cfg, "sub_name"));
				ok = false;
			}
	free(meets);
	return ok;
}

/* A markdown table cell: '|' would end it. */
static void
append_cell(strbuf *sb, const char *text)
{
	const char *p;

	sb_append(sb, " `");
	for (p = text; *p; p++) {
		if (*p == '|')
			sb_append_char(sb, '\\');
		sb_append_char(sb, *p);
	}
	sb_append(sb, "` |");
}

/* The values of the fleet's own templates: the shared keys, and the kits as lists. */
static tpl_vars *
fleet_vars(const mk_config *cfg, const char *fleet_dir, const member *members, int n)
{
	tpl_vars *v = render_vars(cfg, fleet_dir);
	char **srcs = xcalloc((size_t) n, sizeof(char *)), **dsts = xcalloc((size_t) n, sizeof(char *));
	char **kits = xcalloc((size_t) n, sizeof(char *)), **rows = xcalloc((size_t) n, sizeof(char *));
	char count[16];
	int i;

	for (i = 0; i < n; i++) {
		const mk_config *m = members[i].cfg;
		strbuf row;

		srcs[i] = (char *) config_get(m, "src_db");
		dsts[i] = (char *) config_get(m, "dst_db");
		kits[i] = members[i].kit_dir;
		/* One row of the runbook's table of kits. */
		sb_init(&row);
		sb_append_char(&row, '|');
		append_cell(&row, srcs[i]);
		append_cell(&row, dsts[i]);
		append_cell(&row, config_get(m, "pub_name"));
		append_cell(&row, config_get(m, "sub_name"));
		append_cell(&row, kits[i]);
		rows[i] = sb_steal(&row);
	}
	tpl_set_list(v, "fleet_databases", srcs, n);
	tpl_set_list(v, "fleet_dst_databases", dsts, n);
	tpl_set_list(v, "fleet_kits", kits, n);
	tpl_set_list(v, "fleet_rows", rows, n);
	snprintf(count, sizeof(count), "%d", n);
	tpl_set(v, "fleet_count", count);
	tpl_set(v, "fleet_first", n > 0 ? srcs[0] : "");
	{
		/* The first database as one shell word, for the commands the runbook shows. */
		strbuf w;

		sb_init(&w);
		if (n > 0 && !shell_quote(&w, srcs[0]))
			sb_append(&w, srcs[0]);
		tpl_set(v, "fleet_first_word", w.data);
		sb_free(&w);
	}
	tpl_set(v, "fleet_dir", fleet_dir);
	for (i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
	free(kits);
	free(dsts);
	free(srcs);
	return v;
}

/* Appends NAME=(WORD...) to sb, each value one shell word; false for a value no word can hold. */
static bool
append_array(strbuf *sb, const char *name, const char *const *values, int n)
{
	int i;

	sb_printf(sb, "%s=(\n", name);
	for (i = 0; i < n; i++) {
		sb_append_char(sb, '\t');
		if (!shell_quote(sb, values[i])) {
			log_error("%s cannot be written as one shell word", values[i]);
			return false;
		}
		sb_append_char(sb, '\n');
	}
	sb_append(sb, ")\n");
	return true;
}

/*
 * kit/kits.sh, which the fleet script sources: the fleet's name and its
 * kits in order (the database on SRC, its name on DST, the kit's
 * directory), as shell words.  Data, not a template: the script itself
 * holds no value.
 */
static char *
kits_sh(const char *context, const member *members, int n)
{
	const char **srcs = xcalloc((size_t) n + 1, sizeof(char *)),
			   **dsts = xcalloc((size_t) n + 1, sizeof(char *));
	const char **kits = xcalloc((size_t) n + 1, sizeof(char *));
	strbuf sb;
	bool ok;
	int i;

	for (i = 0; i < n; i++) {
		srcs[i] = config_get(members[i].cfg, "src_db");
		dsts[i] = config_get(members[i].cfg, "dst_db");
		kits[i] = members[i].kit_dir;
	}
	sb_init(&sb);
	sb_append(&sb, "# shellcheck shell=bash disable=SC2034 # read by kit/fleet.sh\n"
				   "# The kits of this fleet, written by migkit render.\nFLEET_NAME=");
	ok = shell_quote(&sb, context);
	sb_append_char(&sb, '\n');
	ok = ok && append_array(&sb, "FLEET_DBS", srcs, n) && append_array(&sb, "FLEET_DST_DBS", dsts, n) &&
		 append_array(&sb, "FLEET_KITS", kits, n);
	free(srcs);
	free(dsts);
	free(kits);
	if (!ok) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

/* The fleet's directory: its files, log/, the kits' list and its marker, as a kit has one. */
static bool
write_fleet_dir(const char *dir, const char *context, const rendered *files, int n, const char *kits)
{
	static const char *const subdirs[] = {"kit", "log", NULL};
	const char *const *d;
	char *marker, *text;
	bool ok = render_make_dirs(dir);
	int i;

	for (d = subdirs; *d && ok; d++) {
		char *p = xasprintf("%s/%s", dir, *d);

		ok = render_make_dirs(p);
		free(p);
	}
	for (i = 0; i < n && ok; i++) {
		char *path = xasprintf("%s/%s", dir, files[i].name);

		ok = render_write_file(path, files[i].text, files[i].mode);
		free(path);
	}
	if (!ok)
		return false;
	marker = xasprintf("%s/kit/kits.sh", dir);
	ok = render_write_file(marker, kits, 0600);
	free(marker);
	if (!ok)
		return false;
	marker = xasprintf("%s/kit/CONTEXT", dir);
	text = xasprintf("%s\n", context);
	ok = render_write_file(marker, text, 0600);
	free(text);
	free(marker);
	return ok;
}

result_t
render_fleet(mk_config *cfg, const render_options *o)
{
	const config_database *dbs;
	const char *cls = config_get(cfg, "src_cls");
	member *members = NULL;
	rendered *ffiles = NULL;
	tpl_vars *vars = NULL;
	char *base = NULL, *dir = NULL, *fleet_dir = NULL, *fleet_context = NULL, *kits = NULL;
	int n = 0, nffiles = 0, i;
	bool ok;
	result_t result = RESULT_ERROR;

	if (config_fleet_all(cfg) && !resolve_all(cfg))
		return RESULT_ERROR;
	n = config_fleet_databases(cfg, &dbs);
	base = render_expand_home(o->output ? o->output : config_get(cfg, "context_dir"));
	dir = render_absolute_path(base);
	if (dir == NULL)
		goto done;
	fleet_dir = xasprintf("%s/%s.fleet", dir, cls);
	fleet_context = xasprintf("%s.fleet", cls);

	members = xcalloc((size_t) n, sizeof(member));
	if (!derive_members(cfg, members, n))
		goto done;
	for (i = 0; i < n; i++) {
		member *m = &members[i];

		m->kit_dir = xasprintf("%s/%s.%s", dir, cls, dbs[i].src);
		m->context = xasprintf("%s.%s", cls, dbs[i].src);
	}
	for (i = 0; i < n; i++) {
		member *m = &members[i];
		tpl_vars *kv = render_vars(m->cfg, m->kit_dir);

		tpl_set(kv, "fleet_dir", fleet_dir);
		ok = render_kit_files(kv, o->tdir, &m->files, &m->nfiles);
		tpl_vars_free(kv);
		if (!ok)
			goto done;
	}
	vars = fleet_vars(cfg, fleet_dir, members, n);
	if (!render_fleet_files(vars, o->tdir, &ffiles, &nffiles) ||
		(kits = kits_sh(fleet_context, members, n)) == NULL)
		goto done;

	for (i = 0; i < n; i++)
		if (!render_check_target(members[i].kit_dir, members[i].context, o->force))
			goto done;
	if (!render_check_target(fleet_dir, fleet_context, o->force))
		goto done;
	for (i = 0; i < n; i++)
		if (!render_write_kit(members[i].kit_dir, members[i].context, members[i].files, members[i].nfiles,
							  o->quiet))
			goto done;
	if (!write_fleet_dir(fleet_dir, fleet_context, ffiles, nffiles, kits))
		goto done;

	if (!o->quiet) {
		strbuf next;
		char *script = xasprintf("%s/fleet", fleet_dir);

		for (i = 0; i < n; i++)
			printf("rendered the kit for %s in %s (%d files)\n", members[i].context, members[i].kit_dir,
				   members[i].nfiles);
		printf("rendered the fleet of %d database%s of %s in %s\n", n, n == 1 ? "" : "s", cls, fleet_dir);
		sb_init(&next);
		if (!shell_quote(&next, script))
			sb_append(&next, script);
		printf("next: %s check-user\n", next.data);
		sb_free(&next);
		free(script);
	}
	result = RESULT_OK;

done:
	for (i = 0; members && i < n; i++) {
		config_free(members[i].cfg);
		free(members[i].kit_dir);
		free(members[i].context);
		render_free_files(members[i].files, members[i].nfiles);
	}
	free(members);
	render_free_files(ffiles, nffiles);
	tpl_vars_free(vars);
	free(kits);
	free(fleet_context);
	free(fleet_dir);
	free(dir);
	free(base);
	return result;
}
