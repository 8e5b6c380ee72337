#!/usr/bin/env bats
# copy-schema against real clusters: SRC's schema replayed on DST, into a
# missing database (created like SRC's), an empty one, one that holds tables
# (refused unless --force), and never onto SRC itself.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	# LATIN1 and the C locale, unlike the clusters' default (UTF8, C.UTF-8),
	# so a database created "like SRC's" shows it.
	pg_psql SRC postgres <<'SQL'
create role db_owner nologin;
create role app_owner login;
create role app_rw nologin;
create role "Odd Role" login;
create role "select" nologin;
grant app_rw to "Odd Role" with admin option;
alter role app_owner in database postgres set work_mem = '4MB';
create database shop owner db_owner template template0 encoding 'LATIN1' lc_collate 'C' lc_ctype 'C';
SQL
	pg_psql SRC shop <<'SQL'
create extension citext;
create schema shop authorization app_owner;
create schema "Odd Schema" authorization "Odd Role";
set role app_owner;
create type shop.status as enum ('new', 'paid');
create table shop.orders (id bigserial primary key, email citext, status shop.status default 'new', total numeric(10,2));
create table shop."Order Items" (order_id bigint references shop.orders, line int, sku text, primary key (order_id, line));
create table shop."select" (id int generated always as identity primary key, "from" text);
create index orders_email on shop.orders (email);
create function shop.order_total(bigint) returns numeric language sql stable as $$ select total from shop.orders where id = $1 $$;
create view shop.paid as select * from shop.orders where status = 'paid';
alter default privileges in schema shop grant select on tables to app_rw;
grant usage on schema shop to app_rw, "select";
grant select, insert on shop.orders to app_rw;
grant select ("from") on shop."select" to "select";
comment on table shop.orders is 'one row per order';
reset role;
alter table shop.orders enable row level security;
create policy mine on shop.orders to app_rw using (true);
create table "Odd Schema"."ünïcode" (k int primary key);
alter table "Odd Schema"."ünïcode" owner to "Odd Role";
insert into shop.orders (email, total) values ('a@example.com', 10);
revoke connect on database shop from public;
grant connect on database shop to app_rw;
alter database shop set timezone = 'UTC';
create publication shop_pub for all tables;
SQL
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
}

# kit_for NAME DSTDB [yaml line]...: a kit migrating SRC's shop to DST's DSTDB.
kit_for() {
	local name=$1 dstdb=$2
	shift 2
	write_config "$BATS_TEST_TMPDIR/$name.yml" SRC shop DST "$dstdb" "$@"
	render_kit "$BATS_TEST_TMPDIR/$name.yml" "$BATS_TEST_TMPDIR/$name"
	KIT=$BATS_TEST_TMPDIR/$name
}

# schema_of CLUSTER DB: its schema as pg_dump prints it, without comments,
# blank lines and the per-dump \restrict keys.
schema_of() {
	local portvar="${1}_PORT"
	pg_dump --schema-only --no-publications --no-subscriptions --encoding=UTF8 \
		-h 127.0.0.1 -p "${!portvar}" -U postgres -d "$2" |
		grep -v -e '^--' -e '^$' -e '^\\restrict ' -e '^\\unrestrict '
}

dst_databases() {
	pg_sql DST postgres 'select string_agg(datname, $$ $$ order by datname) from pg_database'
}

dst_roles() {
	pg_sql DST postgres 'select string_agg(rolname, $$ $$ order by rolname) from pg_roles where rolname !~ $$^pg_$$'
}

@test "copy-schema refuses when DST is SRC (exit 2) and changes nothing" {
	write_config "$BATS_TEST_TMPDIR/same.yml" SRC shop SRC shop
	KIT=$BATS_TEST_TMPDIR/same
	render_kit "$BATS_TEST_TMPDIR/same.yml" "$KIT"
	before=$(schema_of SRC shop)
	run -2 --separate-stderr "$KIT/copy-schema" -y
	[[ $stderr == *'copy-schema: DST is SRC: both are database shop of the cluster with system identifier'* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[ ! -e "$KIT/data/schema.sql" ]
	[ ! -e "$KIT/data/roles.sql" ]
	assert_equal "$(schema_of SRC shop)" "$before"
	grep -q $'\tcopy-schema\texit=2\t' "$KIT/log/journal"
}

@test "copy-schema -n shows the database, roles and schema summary and changes nothing" {
	kit_for dry shop
	dbs=$(dst_databases) roles=$(dst_roles)
	run -0 --separate-stderr "$KIT/copy-schema" -n
	assert_output --partial "CREATE DATABASE shop WITH TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C';"
	assert_output --partial 'ALTER DATABASE shop OWNER TO db_owner;'
	assert_output --partial 'GRANT CONNECT ON DATABASE shop TO app_rw;'
	assert_output --partial "2. roles: DST lacks 5 of the 5 roles SRC's objects need: Odd Role, app_owner, app_rw, db_owner, select"
	assert_output --partial "SELECT 'CREATE ROLE \"Odd Role\"'"
	assert_output --regexp 'TABLE +4'
	assert_output --regexp 'EXTENSION +1'
	assert_output --partial "$KIT/data/schema.sql"
	assert_output --partial 'dry run: nothing was changed'
	refute_output --partial 'PUBLICATION'
	! grep -q 'PUBLICATION' "$KIT/data/schema.sql"
	grep -q 'CREATE TABLE shop.orders' "$KIT/data/schema.sql"
	assert_equal "$(dst_databases)" "$dbs"
	assert_equal "$(dst_roles)" "$roles"
}

@test "copy-schema with no terminal and no -y refuses (exit 2) and changes nothing" {
	kit_for notty shop
	dbs=$(dst_databases) roles=$(dst_roles)
	run -2 --separate-stderr "$KIT/copy-schema" </dev/null
	[[ $stderr == *'no terminal to ask'* ]]
	assert_equal "$(dst_databases)" "$dbs"
	assert_equal "$(dst_roles)" "$roles"
}

@test "copy-schema into a missing database creates it like SRC's and replays the schema, owners and grants kept" {
	kit_for fresh shop
	run -0 --separate-stderr "$KIT/copy-schema" -y
	assert_output --regexp 'tables +\| +4 +\| +4'
	assert_output --regexp 'roles +\| +5 +\|'
	assert_output --partial "ok: SRC's schema is on DST"
	run -0 pg_sql DST postgres "select pg_encoding_to_char(encoding), datcollate, datctype, pg_get_userbyid(datdba), array_length(datacl, 1) from pg_database where datname = 'shop'"
	assert_output 'LATIN1|C|C|db_owner|3'
	run -0 pg_sql DST shop "select current_setting('TimeZone'), has_database_privilege('app_rw', 'shop', 'CONNECT'), has_database_privilege('select', 'shop', 'CONNECT')"
	assert_output 'UTC|t|f'
	# identical schema, owners and grants included; no publication
	assert_equal "$(schema_of DST shop)" "$(schema_of SRC shop)"
	run -0 pg_sql DST shop "select relowner::regrole, has_table_privilege('app_rw', 'shop.orders', 'INSERT'), (select count(*) from shop.orders), (select count(*) from pg_publication) from pg_class where oid = 'shop.orders'::regclass"
	assert_output 'app_owner|t|0|0'
	run -0 pg_sql DST postgres "select rolname, rolcanlogin from pg_roles where rolname in ('app_owner', 'Odd Role', 'select', 'db_owner', 'app_rw') order by 1"
	assert_output $'Odd Role|t\napp_owner|t\napp_rw|f\ndb_owner|f\nselect|f'
	run -0 pg_sql DST postgres "select admin_option from pg_auth_members where roleid = 'app_rw'::regrole and member = '\"Odd Role\"'::regrole"
	assert_output t
}

@test "copy-schema run again says DST already has SRC's schema (exit 0) and changes nothing" {
	kit_for fresh shop
	before=$(schema_of DST shop)
	run -0 --separate-stderr "$KIT/copy-schema" -y
	assert_output --partial "DST's database shop already has SRC's schema (4 table(s)): nothing to do"
	assert_equal "$(schema_of DST shop)" "$before"
}

@test "copy-schema creates the database through a URL with query parameters, --json summary" {
	kit_for url shop_url "dst_pg: postgres://postgres@127.0.0.1:$DST_PORT/shop_url?sslmode=disable&application_name=migkit%20test"
	run -0 --separate-stderr "$KIT/copy-schema" -y --json
	run -0 jq -r '.created[] | select(.kind == "tables" or .kind == "roles") | "\(.kind) \(.created)"' <<<"$output"
	# the roles exist since the previous test: none created
	assert_output $'tables 4\nroles 0'
	assert_equal "$(schema_of DST shop_url)" "$(schema_of SRC shop)"
}

@test "copy-schema into an existing empty database (key=value dst_pg) notes how it differs from SRC's" {
	pg_sql DST postgres 'create database shop_empty'
	kit_for empty shop_empty "dst_pg: host=127.0.0.1 port=$DST_PORT user=postgres dbname=shop_empty"
	run -0 --separate-stderr "$KIT/copy-schema" -y
	assert_output --partial "note: DST's database shop_empty exists and is used as it is, but its encoding is UTF8 on DST, LATIN1 on SRC"
	refute_output --partial 'CREATE DATABASE'
	assert_equal "$(schema_of DST shop_empty)" "$(schema_of SRC shop)"
	run -0 pg_sql DST postgres "select pg_get_userbyid(datdba) from pg_database where datname = 'shop_empty'"
	assert_output postgres
}

@test "copy-schema refuses a database that holds tables (exit 2), and replays into it with --force" {
	pg_sql DST postgres 'create database busy'
	pg_sql DST busy 'create table legacy (k int)'
	kit_for busy busy
	run -2 --separate-stderr "$KIT/copy-schema" -y
	[[ $stderr == *"copy-schema: DST's database busy is not empty: it holds 1 table(s) (public.legacy); copy-schema replays into an empty database"* ]]
	run -0 pg_sql DST busy "select count(*) from pg_namespace where nspname = 'shop'"
	assert_output 0
	run -0 --separate-stderr "$KIT/copy-schema" -y --force
	[[ $stderr == *'replaying anyway (--force)'* ]]
	run -0 pg_sql DST busy "select count(*) from pg_class where relkind = 'r' and relnamespace::regnamespace::text in ('public', 'shop', '\"Odd Schema\"')"
	assert_output 5
	run -0 pg_sql DST busy "select to_regclass('public.legacy') is not null, to_regclass('shop.orders') is not null"
	assert_output 't|t'
}

@test "copy-schema: a bad option is a usage error (exit 2)" {
	kit_for bad shop
	run -2 --separate-stderr "$KIT/copy-schema" --frobnicate
	[[ $stderr == *"unexpected argument '--frobnicate'"* ]]
	[[ $stderr == *'Try "copy-schema --help"'* ]]
}

@test "the rendered copy-schema is shellcheck-clean" {
	command -v "${SHELLCHECK:-shellcheck}" >/dev/null || skip "no shellcheck"
	kit_for lint shop
	cd "$KIT"
	run -0 "${SHELLCHECK:-shellcheck}" -x copy-schema
}
