/*
 * The keys of migration.yml that may be left out, derived the way the
 * original kit derived them: the users, ports and limits, and for one
 * database its connection strings and its publication's and
 * subscription's names.
 */
#include "config.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "util.h"
#include "config_internal.h"

static void
derive(mk_config *c, const char *name, char *text)
{
	config_value *v = &c->values[config_key_index(name)];

	if (v->text == NULL)
		v->text = text;
	else
		free(text);
}

static char *
derive_url(const mk_config *c, const char *ip_key, const char *port_key, const char *db_key)
{
	const char *ip = config_get(c, ip_key);
	const config_value *port = config_entry(c, port_key);
	strbuf sb;

	sb_init(&sb);
	sb_append(&sb, "postgres://");
	url_encode(&sb, config_get(c, "admin_user"));
	sb_append_char(&sb, '@');
	if (strchr(ip, ':') && ip[0] != '[')
		sb_printf(&sb, "[%s]", ip);
	else
		sb_append(&sb, ip);
	if (port->set)
		sb_printf(&sb, ":%s", port->text);
	sb_append_char(&sb, '/');
	url_encode(&sb, config_get(c, db_key));
	return sb_steal(&sb);
}

/*
 * <prefix>_<src_cls>_<src_db>, made a valid replication slot name (a
 * subscription's slot takes its name): lower case, every other byte than
 * a-z, 0-9 and _ written as _, and when longer than CONFIG_MAX_OBJECT, cut
 * and ended with 8 hex digits of a hash of the whole, so that two long
 * names still differ.
 */
static char *
derive_object_name(const mk_config *c, const char *prefix)
{
	char *s = xasprintf("%s_%s_%s", prefix, config_get(c, "src_cls"), config_get(c, "src_db"));
	uint32_t h = 2166136261u; /* FNV-1a */
	unsigned char *p;

	for (p = (unsigned char *) s; *p; p++) {
		h = (h ^ *p) * 16777619u;
		if (*p >= 'A' && *p <= 'Z')
			*p = (unsigned char) (*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			*p = '_';
	}
	if (strlen(s) > CONFIG_MAX_OBJECT || c->hash_names) {
		char *cut = xasprintf("%.*s_%08x", CONFIG_MAX_OBJECT - 9, s, (unsigned) h);

		free(s);
		s = cut;
	}
	return s;
}

/* The user= of a connection string, or NULL (none given, or none at all). */
static char *
conninfo_user(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *user = NULL;

	if (conninfo == NULL || (opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return NULL;
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "user") == 0 && o->val && *o->val)
			user = xstrdup(o->val);
	PQconninfoFree(opts);
	return user;
}

/*
 * The subscription connects as the replication user: when sub_conn names a
 * user, repl_user (given) is that user.
 */
bool
config_check_sub_conn_user(mk_config *c)
{
	const config_value *conn = config_entry(c, "sub_conn"), *repl = config_entry(c, "repl_user");
	char *user = conninfo_user(conn->text);
	bool ok = true;

	if (user && repl->set && strcmp(user, repl->text) != 0)
		ok = config_error(c, conn->line, conn->col,
						  "sub_conn connects as '%s' but repl_user is '%s': the subscription's user is the "
						  "replication user; make them the same, or remove repl_user",
						  user, repl->text);
	free(user);
	return ok;
}

void
config_derive_defaults(mk_config *c)
{
	strbuf sb;
	const config_value *port = config_entry(c, "src_port");

	derive(c, "context_dir", xstrdup("~/migration"));
	derive(c, "admin_user", xstrdup("dbuser_dba"));
	derive(c, "repl_user", conninfo_user(config_get(c, "sub_conn")));
	derive(c, "repl_user", xstrdup("replicator"));
	derive(c, "src_port", xstrdup("5432"));
	derive(c, "dst_port", xstrdup("5432"));
	derive(c, "seq_shift", xstrdup("0"));
	derive(c, "lag_max_bytes", xstrdup("1048576"));
	derive(c, "lag_max_seconds", xstrdup("5"));
	derive(c, "heartbeat", xstrdup("false"));
	derive(c, "wal_budget_bytes", xstrdup("0"));
	if (config_get(c, "src_db") == NULL)
		return; /* a fleet: config_for_database() derives each database's names */
	derive(c, "src_pg", derive_url(c, "src_ip", "src_port", "src_db"));
	derive(c, "dst_pg", derive_url(c, "dst_ip", "dst_port", "dst_db"));
	derive(c, "pub_name", derive_object_name(c, "pub"));
	derive(c, "sub_name", derive_object_name(c, "sub"));

	sb_init(&sb);
	sb_append(&sb, "host=");
	conninfo_quote(&sb, config_get(c, "src_ip"));
	if (port->set) {
		sb_append(&sb, " port=");
		conninfo_quote(&sb, port->text);
	}
	sb_append(&sb, " dbname=");
	conninfo_quote(&sb, config_get(c, "src_db"));
	sb_append(&sb, " user=");
	conninfo_quote(&sb, config_get(c, "repl_user"));
	derive(c, "sub_conn", sb_steal(&sb));
}
