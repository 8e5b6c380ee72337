#!/usr/bin/env bats
# Schema drift against real clusters: migkit diff --schema (and copy-diff
# --schema) names each difference of the migration's tables between SRC
# and DST (columns, types, nullability, defaults, constraints, indexes,
# tables on one side only); cutover's preflight refuses on each; ddl-freeze
# refuses DDL on SRC but the kit's own, and --undo lifts it.  The tests run
# in file order.

setup_file() {
	load test_helper/common
	pg_start SRC
	pg_start DST
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database shop"
		pg_psql "$side" shop <<'SQL'
create role app_user login;
create table public.items (id bigserial primary key, name text not null, price numeric(10,2) default 0,
                           code text collate "C", unique (code));
create index items_name on public.items (name);
create table public."Order Lines" (id int generated always as identity primary key,
                                   item bigint not null references public.items (id), qty int check (qty > 0));
create table public.parted (id int, k int, primary key (id, k)) partition by range (k);
create table public.parted_1 partition of public.parted for values from (0) to (100);
create index parted_k on public.parted (k);
grant select, insert, update, delete on all tables in schema public to app_user;
grant usage on all sequences in schema public to app_user;
SQL
	done
	cd "$BATS_FILE_TMPDIR"
	write_config m.yml SRC shop DST shop "app_roles: [app_user]"
	render_kit m.yml kit
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	cd "$BATS_FILE_TMPDIR"
	# The kit's own SRC and DST, for migkit diff run by hand.
	SRCPG=$(sed -n 's/^export SRCPG=//p' kit/activate) DSTPG=$(sed -n 's/^export DSTPG=//p' kit/activate)
	export SRCPG DSTPG
}

@test "diff --schema: alike sides are equal (a partitioned table on both, a generated identity, a collation)" {
	run -0 "$MIGKIT" diff --schema
	assert_output --partial "schema: equal: 3 tables alike on SRC and DST"
	run -0 "$MIGKIT" diff --schema --json
	run -0 jq -r '[.mode, .result, .tables, (.differences | length)] | map(tostring) | join(" ")' <<<"$output"
	assert_output "schema equal 3 0"
}

@test "diff --schema names every difference: column, type, nullability, default, constraint, index, a table on one side" {
	pg_psql SRC shop <<'SQL'
alter table public.items add column note text;
alter table public.items alter column price set default 1;
create index items_price on public.items (price);
create table public.only_src (id int primary key);
SQL
	pg_psql DST shop <<'SQL'
alter table public."Order Lines" alter column qty type bigint;
alter table public.items alter column name drop not null;
alter table public."Order Lines" drop constraint "Order Lines_qty_check";
create table public.only_dst (id int primary key);
SQL
	run -1 "$MIGKIT" diff --schema
	assert_output --partial 'public.items: column note only on SRC: text'
	assert_output --partial 'public.items: column price, on SRC: numeric(10,2) default 1; on DST: numeric(10,2) default 0'
	assert_output --partial 'public.items: column name, on SRC: text not null; on DST: text'
	assert_output --partial 'public.items: index items_price only on SRC: CREATE INDEX items_price ON public.items USING btree (price)'
	assert_output --partial 'public."Order Lines": column qty, on SRC: integer; on DST: bigint'
	assert_output --partial 'public."Order Lines": constraint Order Lines_qty_check only on SRC: CHECK ((qty > 0))'
	assert_output --partial 'public.only_src: only on SRC: table'
	assert_output --partial 'public.only_dst: only on DST: table'
	assert_output --partial 'schema: 8 differences over 5 tables'
	# Each once, nothing else: the foreign key and the identity are alike.
	assert_equal "$(grep -c '^public' <<<"$output")" 8
	run -1 "$MIGKIT" diff --schema --json
	run -0 jq -r '.differences[] | select(.name == "note") | [.table, .kind, .src, (.dst | tostring)] | join("|")' <<<"$output"
	assert_output 'public.items|column|text|null'
	run -1 "$MIGKIT" diff --schema --table 'public.Order*'
	assert_output --partial 'schema: 2 differences over 1 table'
	run -1 kit/copy-diff --schema
	assert_output --partial 'public.items: column note only on SRC: text'
	run -2 "$MIGKIT" diff --schema --checksum
	assert_output --partial "exclude each other"
}

@test "cutover's preflight refuses with a blocker for each difference of the schema" {
	cp "$MIGKIT_SRCDIR/examples/demo/templates/re-routing" kit/re-routing
	run -1 kit/cutover -n
	assert_output --partial "BLOCKER: schema: public.items column note: only on SRC: text (logical replication carries no DDL"
	assert_output --partial "BLOCKER: schema: public.only_src: only on SRC: table"
	assert_equal "$(grep -c 'BLOCKER: schema: ' <<<"$output")" 8
	[ ! -e kit/data/fence.json ]
}

@test "once both sides are alike again, diff --schema and the preflight's check say so" {
	pg_psql DST shop <<'SQL'
alter table public.items add column note text;
alter table public.items alter column price set default 1;
create index items_price on public.items (price);
alter table public."Order Lines" alter column qty type int;
alter table public.items alter column name set not null;
alter table public."Order Lines" add constraint "Order Lines_qty_check" check (qty > 0);
create table public.only_src (id int primary key);
drop table public.only_dst;
SQL
	run -0 "$MIGKIT" diff --schema
	assert_output --partial "schema: equal: 4 tables"
	run -1 kit/cutover -n
	assert_output --partial "ok: the schema of the migration's tables is alike on both sides: 4 table(s)"
	refute_output --partial "BLOCKER: schema"
}

@test "ddl-freeze -n shows the event trigger and changes nothing" {
	run -0 kit/ddl-freeze -n
	assert_output --partial "create event trigger migkit_ddl_freeze on ddl_command_start execute function migkit.ddl_freeze();"
	assert_output --partial "dry run: nothing was changed"
	assert_equal "$(pg_sql SRC shop "select count(*) from pg_event_trigger")" 0
}

@test "ddl-freeze refuses DDL on SRC, but the kit's own; a second run says it is frozen" {
	run -0 kit/ddl-freeze -y
	assert_output --partial "DDL is frozen in shop on SRC"
	run -1 pg_sql SRC shop "alter table public.items add column frozen int"
	assert_output --partial "DDL is frozen in database shop while it migrates: ALTER TABLE refused"
	run -1 pg_sql SRC shop "create index items_frozen on public.items (code)"
	assert_output --partial "CREATE INDEX refused"
	run -1 as_role app_user SRC shop "create table public.mine (id int)"
	assert_output --partial "DDL is frozen"
	# DST is left alone; DML on SRC goes on.
	pg_sql DST shop "create table public.dst_only_scratch (id int); drop table public.dst_only_scratch"
	pg_sql SRC shop "insert into public.items (name, code) values ('while frozen', 'f1')"
	# The kit's own DDL passes: create-pub creates a publication, drop-pub drops it.
	run -0 kit/create-pub -y
	assert_output --partial "publication pub_pg_src_shop created on SRC"
	run -0 kit/drop-pub -y
	run -0 kit/ddl-freeze -y
	assert_output --partial "already frozen"
}

@test "ddl-freeze --undo lifts the freeze; a second --undo has nothing to do" {
	run -0 kit/ddl-freeze --undo -y
	assert_output --partial "DDL is allowed in shop on SRC again"
	pg_sql SRC shop "create table public.after_freeze (id int); drop table public.after_freeze"
	assert_equal "$(pg_sql SRC shop "select count(*) from pg_event_trigger")" 0
	assert_equal "$(pg_sql SRC shop "select count(*) from pg_proc where proname = 'ddl_freeze'")" 0
	run -0 kit/ddl-freeze --undo -y
	assert_output --partial "nothing to undo"
}
