-- Random cases for migkit diff --checksum: a differential test.  Installed
-- as schema diffrand into one database on SRC and on DST
-- (tests/test_helper/diff-random.bash runs the steps; the comparison leaves
-- the schema out with MIGKIT_EXCLUDE).
--
--   SRC   diffrand.plan(seed, cases, large) draws every table: its shape, its
--         columns, its row count, kept as DDL and an INSERT in diffrand.cases
--         (one row per table: the case).
--   both  diffrand.cases is copied to DST; diffrand.make_types(side) and
--         diffrand.build(side) create and fill the tables.  Every value is a
--         function of the row number (nothing random), so both sides get
--         the same rows.
--   DST   diffrand.mutate(seed) changes some of the tables, and records what
--         it did (diffrand.mutations) and the rows diff must name for it
--         (diffrand.expected).
--   both  diffrand.fingerprint(): per table, the row count and the md5 of
--         its rows' text forms, sorted.  SRC's go to DST (diffrand.fp_src).
--   DST   migkit diff's --json reports go into diffrand.report and the
--         check_* functions list every way they disagree with the truth.
--
-- Random choices come from random() after setseed(), so a seed always
-- gives the same tables and the same mutations (on the same major).

create schema diffrand;

-- The sessions of the generator and the fingerprints print values as
-- migkit diff's own sessions do, so that keys read here and there match.
do $$
begin
	execute format('alter database %I set datestyle = ''ISO, YMD''', current_database());
	execute format('alter database %I set intervalstyle = postgres', current_database());
	execute format('alter database %I set timezone = ''UTC''', current_database());
	execute format('alter database %I set extra_float_digits = 3', current_database());
	execute format('alter database %I set bytea_output = hex', current_database());
end $$;

-- The kinds of column a table may have, each with the values its rows
-- take (in the type's input syntax).
create table diffrand.kinds (
	kind text primary key,
	type text not null,
	pool text[] not null
);

insert into diffrand.kinds values
	('numeric', 'numeric', array['0', '0.0', '1.0', '1.00', '2.5', '2.50', '1.5', '-1.5',
		'123456789.000000001', '1e-20', 'NaN', 'Infinity', '-Infinity']),
	('amount', 'r.amount', array['0', '0.0', '1.0', '1.00', '1.5', '-1.5', 'NaN', 'Infinity']),
	('interval', 'interval', array['1 day', '24:00:00', '1 mon', '30 days', '00:00:01',
		'00:00:01.000001', '-1 day +24:00:00', '00:00:00', '1 year 2 mons']),
	('jsonb', 'jsonb', array['{"a": 1.0}', '{"a": 1.00}', '{}', '{"a": null}', '[1, 2]',
		'[2, 1]', '"x"', '"X"', 'null', '{"é": "ü"}']),
	('json', 'json', array['{"a":1}', '{"a": 1}', '{"a":1,"a":2}', '{"a":2}', '[]', '[ ]',
		'null', '"é"', '"\u00e9"']),
	('bytea', 'bytea', array['\x', '\x00', '\x41', '\x61', '\xdeadbeef', '\x0000']),
	('float8', 'double precision', array['0', '-0', '1.5', 'NaN', 'Infinity', '-Infinity',
		'0.1', '0.10000000000000002', '1e-300', '5e-324']),
	('float4', 'real', array['0', '-0', '1.5', 'NaN', '0.1', '0.10000001', '3.4028235e+38']),
	('timestamptz', 'timestamptz', array['2024-02-29 12:00:00+00', '2024-02-29 12:00:00.000001+00',
		'2024-02-29 14:00:00+02', 'infinity', '-infinity', '1999-12-31 23:59:59.999999+00',
		'2000-01-01 00:00:00+00', '2000-01-01 01:11:34.967297+00']),
	('timestamp', 'timestamp', array['2024-01-01 00:00:00', '2024-01-01 00:00:00.000001',
		'infinity', '-infinity', '2000-01-01 00:00:00', '2000-01-01 01:11:34.967297']),
	('date', 'date', array['2000-01-01', '2000-01-02', 'infinity', '-infinity', '1999-12-31',
		'2000-02-29', '5874897-12-31', '4714-11-24 BC']),
	('text', 'text', array['abc', 'ABC', 'é', U&'e\0301', 'x', 'x ', 'Straße', 'STRASSE',
		'日本語', '', ' ', 'emoji 😀', 'a,b', '(x)', 'NULL', E'tab\there']),
	('varchar', 'varchar(20)', array['abc', 'ABC', 'é', U&'e\0301', 'x', 'x ', 'Ünï']),
	('bool', 'boolean', array['true', 'false']),
	('enum', 'r.mood', array['happy', 'sad', 'ok', 'Ünï', 'meh']),
	('int2', 'smallint', array['0', '1', '-32768', '32767']),
	('int4', 'integer', array['0', '1', '-1', '42', '2147483647', '-2147483648']),
	('int8', 'bigint', array['0', '1', '4294967296', '4294967297', '9223372036854775807',
		'-9223372036854775808']),
	('uuid', 'uuid', array['00000000-0000-0000-0000-000000000000',
		'00000000-0000-0000-0000-000000000001', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
		'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12']),
	('int4[]', 'integer[]', array['{1,2}', '[0:1]={1,2}', '{1,2,3,4}', '{{1,2},{3,4}}', '{}',
		'{NULL}', '{0}', '{7}', '[2:2]={7}']),
	('text[]', 'text[]', array['{a,b}', '{"a,b"}', '{A,b}', '{}', '{""}', '{NULL}', '{"NULL"}']),
	('int4range', 'int4range', array['[1,3)', '[1,4)', 'empty', '(,)', '[1,)']),
	('time', 'time', array['00:00:00', '24:00:00', '12:00:00', '12:00:00.000001', '01:11:34.967297']),
	('timetz', 'timetz', array['00:00:00+00', '12:00:00+01', '11:00:00+00', '12:00:00+00']);

-- Pairs of values of a kind that a user tells apart although they are
-- equal, or nearly so, to the type (1.0 and 1.00, '1 day' and '24 hours',
-- -0 and 0...): a change from one to the other is the hardest to see.
create table diffrand.twins (
	kind text not null references diffrand.kinds,
	a text not null,
	b text not null
);

insert into diffrand.twins values
	('numeric', '0', '0.0'), ('numeric', '1.0', '1.00'), ('numeric', '2.5', '2.50'),
	('numeric', '1.5', '-1.5'), ('numeric', 'NaN', 'Infinity'), ('numeric', 'Infinity', '-Infinity'),
	('amount', '0', '0.0'), ('amount', '1.0', '1.00'), ('amount', '1.5', '-1.5'), ('amount', 'NaN', 'Infinity'),
	('interval', '1 day', '24:00:00'), ('interval', '1 mon', '30 days'),
	('interval', '00:00:01', '00:00:01.000001'), ('interval', '-1 day +24:00:00', '00:00:00'),
	('jsonb', '{"a": 1.0}', '{"a": 1.00}'), ('jsonb', '{}', '{"a": null}'),
	('jsonb', '[1, 2]', '[2, 1]'), ('jsonb', '"x"', '"X"'),
	('json', '{"a":1}', '{"a": 1}'), ('json', '{"a":1,"a":2}', '{"a":2}'), ('json', '[]', '[ ]'),
	('json', '"é"', '"\u00e9"'),
	('bytea', '\x', '\x00'), ('bytea', '\x41', '\x61'), ('bytea', '\x00', '\x0000'),
	('float8', '0', '-0'), ('float8', 'NaN', 'Infinity'), ('float8', 'Infinity', '-Infinity'),
	('float8', '0.1', '0.10000000000000002'),
	('float4', '0', '-0'), ('float4', '0.1', '0.10000001'),
	('timestamptz', '2024-02-29 12:00:00+00', '2024-02-29 12:00:00.000001+00'),
	('timestamptz', 'infinity', '-infinity'),
	('timestamptz', '1999-12-31 23:59:59.999999+00', '2000-01-01 00:00:00+00'),
	('timestamptz', '2000-01-01 00:00:00+00', '2000-01-01 01:11:34.967297+00'),
	('timestamp', '2024-01-01 00:00:00', '2024-01-01 00:00:00.000001'),
	('timestamp', 'infinity', '-infinity'), ('timestamp', '2000-01-01 00:00:00', '2000-01-01 01:11:34.967297'),
	('date', '2000-01-01', '2000-01-02'), ('date', 'infinity', '-infinity'),
	('date', '5874897-12-31', 'infinity'),
	('text', 'abc', 'ABC'), ('text', 'é', U&'e\0301'), ('text', 'x', 'x '),
	('text', 'Straße', 'STRASSE'), ('text', '', ' '), ('text', 'NULL', ''),
	('varchar', 'abc', 'ABC'), ('varchar', 'é', U&'e\0301'), ('varchar', 'x', 'x '),
	('bool', 'true', 'false'),
	('enum', 'happy', 'sad'), ('enum', 'ok', 'meh'),
	('int2', '32767', '-32768'), ('int4', '0', '1'), ('int4', '2147483647', '-2147483648'),
	('int8', '4294967296', '4294967297'), ('int8', '0', '1'), ('int8', '1', '4294967296'),
	('int8', '0', '4294967297'),
	('uuid', '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000001'),
	('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'),
	('int4[]', '{1,2}', '[0:1]={1,2}'), ('int4[]', '{1,2,3,4}', '{{1,2},{3,4}}'),
	('int4[]', '{7}', '[2:2]={7}'), ('int4[]', '{}', '{NULL}'), ('int4[]', '{NULL}', '{0}'),
	('text[]', '{a,b}', '{"a,b"}'), ('text[]', '{NULL}', '{"NULL"}'), ('text[]', '{}', '{""}'),
	('int4range', '[1,3)', '[1,4)'), ('int4range', '(,)', '[1,)'),
	('time', '00:00:00', '24:00:00'), ('time', '12:00:00', '12:00:00.000001'),
	('time', '00:00:00', '01:11:34.967297'),
	('timetz', '12:00:00+01', '11:00:00+00'), ('timetz', '00:00:00+00', '12:00:00+00');
insert into diffrand.twins select kind, b, a from diffrand.twins;

do $$
begin
	if exists (select from diffrand.twins t join diffrand.kinds k using (kind)
				where not (t.a = any (k.pool) and t.b = any (k.pool))) then
		raise exception 'diffrand.twins has a value its kind''s pool lacks';
	end if;
end $$;

-- Leaves values out of the pools (kind=value), or whole kinds (kind): to
-- look past a known defect.
create function diffrand.avoid(items text[]) returns void
language plpgsql as $$
declare
	item text;
	k text;
begin
	foreach item in array items loop
		k := split_part(item, '=', 1);
		if position('=' in item) = 0 then
			delete from diffrand.twins where kind = k;
			delete from diffrand.kinds where kind = k;
		else
			delete from diffrand.twins where kind = k and substr(item, length(k) + 2) in (a, b);
			update diffrand.kinds set pool = array_remove(pool, substr(item, length(k) + 2)) where kind = k;
		end if;
	end loop;
end $$;

-- The plan: one row per table.
create table diffrand.cases (
	id int primary key,
	schema_name text not null,
	name text not null,
	qual text not null,      -- schema.name, quoted
	shape text not null,     -- int, bigint, uuid, text, composite, keyless
	variant text not null,   -- how SRC declares the key (or what makes it keyless)
	keyed bool not null,     -- migkit diff can locate rows (a key on SRC)
	loose_dst bool not null, -- DST: no key, and every column nullable
	reversed_dst bool not null, -- DST: the columns in reverse order
	dropped_src bool not null,  -- SRC: a dropped column among the others
	partitioning text,       -- which side is partitioned, and how
	nrows int not null,
	twin text[],             -- the twin sweep: DST's first row has column [1] set from [2] to [3]
	-- every column in SRC's order: name, type, kind (null: a key column, or
	-- rowno, the row number that a keyless table's unique index is on), notnull,
	-- key (its position in the key, 0: none), expr (its value for row g;
	-- a key column's is one of {c}, its part of g, see plan_case)
	cols jsonb not null,
	src_ddl text[] not null,
	dst_ddl text[] not null,
	fill text not null
);

-- What diffrand.mutate did on DST, and the rows diff must name.
create table diffrand.mutations (
	case_id int not null,
	seq int not null,
	mutation text not null,
	detail text not null,
	delta int not null, -- rows added on DST
	primary key (case_id, seq)
);

create table diffrand.expected (
	case_id int not null,
	kind text not null, -- missing, extra, changed, duplicated
	key jsonb not null  -- column name -> value as text, or null
);

-- Keys (or whole rows, in a keyless table) a mutation touched, which no
-- later mutation may touch again: so that no two mutations undo each other.
create table diffrand.touched (
	case_id int not null,
	item text not null,
	primary key (case_id, item)
);

create table diffrand.fp_src (case_id int primary key, nrows bigint, md5 text);
create table diffrand.fp_dst (case_id int primary key, nrows bigint, md5 text);
create table diffrand.report (mode text not null, doc jsonb not null);

-- Random draws (after setseed).

create function diffrand.seed_fraction(seed int, salt int) returns float8
language sql immutable as $$
	select ((seed::bigint * 7919 + salt * 104729) % 1000003) / 1000003.0
$$;

create function diffrand.rand_int(lo int, hi int) returns int
language sql volatile as $$
	select lo + floor(random() * (hi - lo + 1))::int
$$;

create function diffrand.chance(p float8) returns bool
language sql volatile as $$
	select random() < p
$$;

-- One of items, each as likely as its weight.
create function diffrand.pick(items text[], weights int[]) returns text
language plpgsql volatile as $$
declare
	r float8 := random() * (select sum(w) from unnest(weights) w);
	i int;
begin
	for i in 1 .. cardinality(items) loop
		r := r - weights[i];
		if r < 0 then
			return items[i];
		end if;
	end loop;
	return items[cardinality(items)];
end $$;

-- Values of row g (the same on both sides).

-- A value of pool for row g of the column salted colseed; NULL for one row
-- in eight when nullable.
create function diffrand.value(pool text[], g bigint, colseed bigint, nullable bool) returns text
language sql immutable as $$
	select case when nullable and (pg_catalog.hashint8extended(g, colseed) & 7) = 0 then null
				else pool[1 + (((pg_catalog.hashint8extended(g, colseed) >> 3) & 1152921504606846975)
							   % pg_catalog.cardinality(pool))::int] end
$$;

-- A text key's letters for part c: one to four pieces whose order depends
-- on the collation (case, accents, 'a' against 'B', ß against ss).
create function diffrand.piece(c bigint, salt bigint) returns text
language sql immutable as $$
	select (array['a', 'A', 'b', 'B', 'é', 'É', 'e', 'E', 'ä', 'Ä', 'z', 'Z', 'ß', 'ss', 'Ø', 'o', 'ñ', 'n',
				  '日本', '😀', ' ', '-', '_', 'İ', 'ı'])
		   [1 + ((pg_catalog.hashint8extended(c, salt) & 1152921504606846975) % 25)::int]
$$;

create function diffrand.word(c bigint, salt bigint) returns text
language sql immutable as $$
	select diffrand.piece(c, salt + 1)
		   || case when (pg_catalog.hashint8extended(c, salt) & 3) >= 1 then diffrand.piece(c, salt + 2) else '' end
		   || case when (pg_catalog.hashint8extended(c, salt) & 3) >= 2 then diffrand.piece(c, salt + 3) else '' end
		   || case when (pg_catalog.hashint8extended(c, salt) & 3) >= 3 then diffrand.piece(c, salt + 4) else '' end
$$;

-- The SQL value of a key column of kind k for part {c}: distinct parts give
-- distinct values.
create function diffrand.key_expr(k text, salt int) returns text
language sql immutable as $$
	select case k
		when 'int' then format('({c} * %s + %s)::integer', 1 + salt % 7, salt % 2001 - 1000)
		when 'bigint' then '({c} * 1000000007 - 4000000000000)::bigint'
		when 'uuid' then format('pg_catalog.md5(%L || {c})::uuid', salt || '/')
		when 'text' then format('diffrand.word({c}, %s) || %L || {c}', salt, '·')
		when 'date' then 'case {c} when 0 then ''-infinity''::date when 1 then ''infinity''::date'
						 ' else ''2000-01-01''::date + ({c} * 3)::integer end'
		when 'enum' then '(array[''happy'', ''sad'', ''ok'', ''Ünï'', ''meh''])[1 + ({c})::integer]::r.mood'
	end
$$;

-- The types created before the tables: on DST the enum's labels come in
-- another order with unused ones first, so that their OIDs differ from
-- SRC's while they sort alike.  Its own transaction: a label added to an
-- enum cannot be used in the transaction that added it.
create function diffrand.make_types(side text) returns void
language plpgsql as $$
begin
	create schema r;
	create schema "Rand Ünï";
	create collation r.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
	create domain r.amount as numeric;
	if side = 'SRC' then
		create type r.mood as enum ('happy', 'sad', 'ok', 'Ünï', 'meh');
	else
		create type r.mood as enum ('unused', 'also unused');
		alter type r.mood add value 'meh';
		alter type r.mood add value 'Ünï' before 'meh';
		alter type r.mood add value 'ok' before 'Ünï';
		alter type r.mood add value 'sad' before 'ok';
		alter type r.mood add value 'happy' before 'sad';
	end if;
end $$;

-- The plan.

-- One column of a DDL column list.
create function diffrand.column_ddl(col jsonb, loose bool) returns text
language sql immutable as $$
	select format('%I %s', col->>'name', col->>'type')
		   || coalesce(' collate ' || (col->>'collation'), '')
		   || case when (col->>'notnull')::bool and not loose then ' not null' else '' end
$$;

-- Draws case id: a table of the shape given (random when null) with nrows
-- rows, its DST copy loose or not (random when null), and writes its DDL
-- for both sides and its INSERT.  With a twin pair, the table has an int
-- key and one other column, of the pair's kind, which holds value a in
-- the first row; diffrand.mutate sets it to b on DST.
create function diffrand.plan_case(id int, seed int, shape text, nrows int, loose bool,
								   twin diffrand.twins default null) returns void
language plpgsql as $$
declare
	variant text;
	reversed bool := diffrand.chance(0.1);
	dropped bool := diffrand.chance(0.1);
	schema_name text := case when diffrand.chance(0.1) then 'Rand Ünï' else 'r' end;
	name text;
	qual text;
	cols jsonb := '[]';
	keylist text;
	kkinds text[] := '{}';
	nkeys int;
	radix int;
	div bigint := 1;
	coll text;
	col jsonb;
	j int;
	kind diffrand.kinds;
	cname text;
	defs text[];
	src text[];
	dst text[];
	fill_cols text[] := '{}';
	fill_exprs text[] := '{}';
	twin_of text[];
	part_src bool;
	part_dst bool;
begin
	shape := coalesce(shape, diffrand.pick(array['int', 'bigint', 'uuid', 'text', 'composite', 'keyless'],
											array[14, 12, 10, 20, 24, 20]));
	name := case when diffrand.chance(0.1) then format('T%s %s Ünï', id, shape)
				 else format('t%s_%s', lpad(id::text, 5, '0'), shape) end;
	qual := format('%I.%I', schema_name, name);

	-- The key: its columns' kinds.
	if shape = 'keyless' then
		variant := diffrand.pick(array['no index', 'unique nullable', 'unique partial', 'unique expression'],
								 array[60, 15, 15, 10]);
		loose := false;
	else
		variant := diffrand.pick(array['primary key', 'unique index'], array[80, 20]);
		loose := coalesce(loose, diffrand.chance(0.3));
		if shape = 'composite' then
			kkinds := array[diffrand.pick(array['int', 'text', 'uuid', 'bigint', 'date'], array[3, 3, 1, 1, 1])];
			for j in 2 .. diffrand.rand_int(2, 3) loop
				kkinds := kkinds || diffrand.pick(array['int', 'text', 'date', 'enum', 'uuid'], array[3, 3, 2, 2, 1]);
			end loop;
		else
			kkinds := array[shape];
		end if;
	end if;
	nkeys := cardinality(kkinds);

	-- An int or bigint key may partition the table: on SRC by hash, on DST
	-- (unless loose) by range, or on one side only.
	part_src := shape in ('int', 'bigint') and nrows <= 50000 and twin is null and diffrand.chance(0.2);
	part_dst := shape in ('int', 'bigint') and nrows <= 50000 and twin is null and not loose
				and diffrand.chance(case when part_src then 0.5 else 0.05 end);

	-- The key columns, last first: row g's key is made of the parts
	-- ((g - 1) / div) % radix, the first one without a radix.
	for j in reverse nkeys .. 1 loop
		radix := case when j = 1 then null when kkinds[j] = 'enum' then 5 else diffrand.rand_int(2, 6) end;
		coll := null;
		if kkinds[j] = 'text' then
			coll := diffrand.pick(array['default', '"C"', '"und-x-icu"', '"en-x-icu"', 'r.ci'],
									   array[3, 2, 3, 2, 2]);
			coll := nullif(coll, 'default');
		end if;
		cname := case when diffrand.chance(0.15) then (array['Clé', 'Order', 'select'])[j]
					  when nkeys = 1 then 'id' else 'k' || j end;
		col := jsonb_build_object(
			'name', cname,
			'type', case kkinds[j] when 'int' then 'integer' when 'enum' then 'r.mood' else kkinds[j] end,
			'collation', coll, 'notnull', true, 'kind', null, 'key', j,
			'expr', diffrand.key_expr(kkinds[j], ((seed::bigint * 31 + id * 7 + j) % 100000)::int),
			'div', div, 'radix', radix);
		cols := jsonb_build_array(col) || cols;
		div := div * coalesce(radix, 1);
	end loop;
	select string_agg(format('%I', c->>'name'), ', ' order by o) into keylist
	  from jsonb_array_elements(cols) with ordinality e(c, o);

	-- A keyless table may still have a unique index, one that makes no key.
	if variant like 'unique %' and shape = 'keyless' then
		cols := cols || jsonb_build_object('name', 'rowno', 'type', 'integer', 'collation', null,
										   'notnull', variant <> 'unique nullable', 'kind', null, 'key', 0,
										   'expr', 'g::integer');
	end if;

	-- The other columns, of random kinds.
	for j in 1 .. case when nrows > 50000 then 3
					   when twin is not null then 1
					   when diffrand.chance(0.03) then diffrand.rand_int(50, 80) -- wide
					   else diffrand.rand_int(1, 7) end loop
		select * into kind from diffrand.kinds k
		 order by coalesce(k.kind = twin.kind and j = 1, false) desc, random() limit 1;
		cname := case when diffrand.chance(0.1)
						  then (array['Größe', 'select', 'Mixed Case', 'with space', 'a"b'])[diffrand.rand_int(1, 5)] || j
					  else format('c%s_%s', j, replace(kind.kind, '[]', '_array')) end;
		col := jsonb_build_object(
			'name', cname, 'type', kind.type,
			'collation', case when kind.kind = 'text' and diffrand.chance(0.3)
								  then (array['"C"', '"und-x-icu"', 'r.ci'])[diffrand.rand_int(1, 3)] end,
			'notnull', diffrand.chance(0.3), 'kind', kind.kind, 'key', 0);
		col := col || jsonb_build_object('expr', format('diffrand.value(%L::text[], g, %s, %L)::%s', kind.pool,
														  (seed::bigint * 100003 + id) * 64 + j,
														  not (col->>'notnull')::bool, kind.type));
		if twin.kind is not null and j = 1 then
			col := col || jsonb_build_object('expr', format('case when g = 1 then %L::%s else %s end', twin.a,
															   kind.type, col->>'expr'));
			twin_of := array[cname, twin.a, twin.b];
		end if;
		cols := cols || col;
	end loop;

	-- SRC as planned, maybe with a dropped column among the others.
	select array_agg(diffrand.column_ddl(c, false) order by o) into defs
	  from jsonb_array_elements(cols) with ordinality e(c, o);
	if dropped then
		defs := defs[1:1] || format('%I integer', 'gone') || defs[2:];
	end if;
	if variant = 'primary key' then
		defs := defs || format('primary key (%s)', keylist);
	end if;
	src := array[format('create table %s (%s)', qual, array_to_string(defs, ', '))
				 || case when part_src then format(' partition by hash (%s)', keylist) else '' end];
	if part_src then
		for j in 0 .. 2 loop
			src := src || format('create table %I.%I partition of %s for values with (modulus 3, remainder %s)',
								 schema_name, name || '_p' || j, qual, j);
		end loop;
	end if;
	if dropped then
		src := src || format('alter table %s drop column %I', qual, 'gone');
	end if;

	-- DST maybe loose (no key, no NOT NULL), maybe with its columns reversed.
	select array_agg(diffrand.column_ddl(c, loose) order by case when reversed then -o else o end) into defs
	  from jsonb_array_elements(cols) with ordinality e(c, o);
	if variant = 'primary key' and not loose then
		defs := defs || format('primary key (%s)', keylist);
	end if;
	dst := array[format('create table %s (%s)', qual, array_to_string(defs, ', '))
				 || case when part_dst then format(' partition by range (%s)', keylist) else '' end];
	if part_dst then
		dst := dst || format('create table %I.%I partition of %s for values from (minvalue) to (0)',
							 schema_name, name || '_neg', qual)
				   || format('create table %I.%I partition of %s for values from (0) to (maxvalue)',
							 schema_name, name || '_pos', qual);
	end if;

	-- Indexes: the unique key, or an index that makes no key.
	if variant <> 'primary key' and variant <> 'no index' then
		src := src || case variant
			when 'unique index' then format('create unique index on %s (%s)', qual, keylist)
			when 'unique nullable' then format('create unique index on %s (rowno)', qual)
			when 'unique partial' then format('create unique index on %s (rowno) where rowno > 0', qual)
			when 'unique expression' then format('create unique index on %s ((rowno + 0))', qual) end;
		if not loose then
			dst := dst || src[cardinality(src)];
		end if;
	end if;

	-- The INSERT.
	for col in select c from jsonb_array_elements(cols) c loop
		fill_cols := fill_cols || format('%I', col->>'name');
		fill_exprs := fill_exprs || replace(col->>'expr', '{c}',
			format('(((g - 1) / %s)%s)', col->>'div', coalesce(' % ' || (col->>'radix'), '')));
	end loop;

	insert into diffrand.cases values (
		id, schema_name, name, qual, shape, variant, shape <> 'keyless', loose, reversed, dropped,
		case when part_src or part_dst then concat_ws(', ', case when part_src then 'SRC partitioned by hash' end,
													  case when part_dst then 'DST partitioned by range' end) end,
		nrows, twin_of, cols,
		src, dst,
		format('insert into %s (%s) select %s from pg_catalog.generate_series(1, %s::bigint) g', qual,
			   array_to_string(fill_cols, ', '), array_to_string(fill_exprs, ', '), nrows));
end $$;

-- Draws ncases tables; nlarge of them (spread over the run) have more than
-- 50000 rows, enough for migkit diff to split them into key ranges: in
-- turn an int key, a composite key, and a bigint key whose DST copy is
-- loose (NULL keys and duplicates in a split table).  Then the twin sweep:
-- a small table for each twin pair, one way and the other, whose DST
-- copy has the one value where SRC has the other.
create function diffrand.plan(seed int, ncases int, nlarge int) returns void
language plpgsql as $$
declare
	every int := case when nlarge > 0 then greatest(ncases / nlarge, 1) end;
	big int := 0;
	i int;
	t diffrand.twins;
begin
	perform setseed(diffrand.seed_fraction(seed, 1));
	for i in 1 .. ncases loop
		if every is not null and i % every = 0 and big < nlarge then
			perform diffrand.plan_case(i, seed, (array['int', 'composite', 'bigint'])[1 + big % 3],
									   50001 + diffrand.rand_int(0, 60000), big % 3 = 2);
			big := big + 1;
		else
			perform diffrand.plan_case(i, seed, null,
				case diffrand.pick(array['0', '1', 'small', 'medium'], array[5, 5, 75, 15])
					when '0' then 0 when '1' then 1
					when 'small' then diffrand.rand_int(2, 60)
					else diffrand.rand_int(501, 1500) end,
				null);
		end if;
	end loop;
	i := ncases;
	for t in select * from diffrand.twins order by kind, a, b loop
		i := i + 1;
		perform diffrand.plan_case(i, seed, 'int', diffrand.rand_int(1, 4), false, t);
	end loop;
end $$;

-- Creates and fills the tables of the plan on one side.
create function diffrand.build(side text) returns void
language plpgsql as $$
declare
	c diffrand.cases;
	stmt text;
begin
	for c in select * from diffrand.cases order by id loop
		foreach stmt in array case side when 'SRC' then c.src_ddl else c.dst_ddl end loop
			execute stmt;
		end loop;
		execute c.fill;
	end loop;
end $$;

-- SQL text over a case's columns.

-- A row's text form, its columns in SRC's order.
create function diffrand.sql_row(c diffrand.cases) returns text
language sql immutable as $$
	select format('row(%s)::text', string_agg(format('%I', e->>'name'), ', ' order by o))
	  from jsonb_array_elements(c.cols) with ordinality x(e, o)
$$;

-- What identifies a row: its key as a row, or the whole row in a keyless table.
create function diffrand.sql_item(c diffrand.cases) returns text
language sql immutable as $$
	select case when not c.keyed then diffrand.sql_row(c)
				else format('row(%s)::text', string_agg(format('%I', e->>'name'), ', ' order by (e->>'key')::int))
		   end
	  from jsonb_array_elements(c.cols) e
	 where (e->>'key')::int > 0
$$;

-- A row's key as migkit diff --json names it: key column -> text or null.
create function diffrand.sql_key(c diffrand.cases) returns text
language sql immutable as $$
	select case when count(*) = 0 then 'null::jsonb'
				else format('jsonb_build_object(%s)',
							string_agg(format('%L, %I::text', e->>'name', e->>'name'), ', '
									   order by (e->>'key')::int)) end
	  from jsonb_array_elements(c.cols) e
	 where (e->>'key')::int > 0
$$;

-- True for a row whose key has a NULL.
create function diffrand.sql_null_key(c diffrand.cases) returns text
language sql immutable as $$
	select coalesce(string_agg(format('%I is null', e->>'name'), ' or '), 'false')
	  from jsonb_array_elements(c.cols) e
	 where (e->>'key')::int > 0
$$;

-- The mutations on DST.

create function diffrand.shown(typ text, v text) returns text
language plpgsql stable as $$
declare
	s text;
begin
	execute format('select $1::%s::text', typ) into s using v;
	return s;
end $$;

-- A value for a column of kind k that now shows as old: mostly its twin
-- when it has one, else NULL or another value of the pool; never one that
-- shows as old does.
create function diffrand.other_value(k text, old text, nullable bool, out value text, out how text)
language plpgsql as $$
declare
	kd diffrand.kinds;
	t diffrand.twins;
	v text;
begin
	select * into kd from diffrand.kinds where kind = k;
	if diffrand.chance(0.7) then
		for t in select * from diffrand.twins where kind = k order by random() loop
			if diffrand.shown(kd.type, t.a) is not distinct from old then
				value := t.b;
				how := 'twin';
				return;
			end if;
		end loop;
	end if;
	if nullable and old is not null and diffrand.chance(0.25) then
		value := null;
		how := 'to NULL';
		return;
	end if;
	foreach v in array (select array_agg(p order by random()) from unnest(kd.pool) p) loop
		if diffrand.shown(kd.type, v) is distinct from old then
			value := v;
			how := case when old is null then 'from NULL' else 'other' end;
			return;
		end if;
	end loop;
	raise exception 'diffrand: no value of kind % other than %', k, old;
end $$;

-- Rows are found again by where they are, tableoid/ctid (the partitions of
-- a partitioned table repeat ctids): in a statement's text, {rid} stands
-- for where a row is, and {at $n} for "the row where $n says".
create function diffrand.at(sql text) returns text
language sql immutable as $$
	select regexp_replace(replace(sql, '{rid}', 'tableoid::text || ''/'' || ctid::text'),
						  '\{at \$(\d)\}',
						  'tableoid = split_part($\1, ''/'', 1)::oid and ctid = split_part($\1, ''/'', 2)::tid', 'g')
$$;

-- A random row of case c that no mutation touched yet and whose key has no
-- NULL: where it is, its item (see diffrand.touched) and its key.
create function diffrand.pick_row(c diffrand.cases, out rid text, out item text, out key jsonb)
language plpgsql as $$
begin
	execute diffrand.at(format('select s.rid, s.item'
							   '  from (select {rid} as rid, %s as item from %s where not (%s)) s'
							   ' where not (s.item = any ($1)) order by random() limit 1',
							   diffrand.sql_item(c), c.qual, diffrand.sql_null_key(c)))
	   into rid, item
	  using array(select t.item from diffrand.touched t where t.case_id = c.id);
	if rid is not null then
		execute diffrand.at(format('select %s from %s where {at $1}', diffrand.sql_key(c), c.qual))
		   into key using rid;
	end if;
end $$;

-- Takes note of the row now at rid as touched, and returns its key.  A
-- row that is not the only one with its item, or whose item was touched
-- before, would let mutations cancel out: the mutation is undone (DR001).
create function diffrand.touch_new(c diffrand.cases, rid text) returns jsonb
language plpgsql as $$
declare
	new_item text;
	n bigint;
	key jsonb;
begin
	execute diffrand.at(format('select %s, %s from %s where {at $1}', diffrand.sql_item(c), diffrand.sql_key(c),
							   c.qual))
	   into new_item, key using rid;
	execute format('select count(*) from %s where %s = $1', c.qual, diffrand.sql_item(c)) into n using new_item;
	if (c.keyed and n > 1) or exists (select from diffrand.touched t where t.case_id = c.id and t.item = new_item)
	then
		raise exception using errcode = 'DR001', message = 'diffrand: a mutation would meet an earlier one';
	end if;
	insert into diffrand.touched values (c.id, new_item);
	return key;
end $$;

create function diffrand.touch(c diffrand.cases, item text) returns void
language sql as $$
	insert into diffrand.touched values (c.id, item) on conflict do nothing
$$;

create function diffrand.record(c diffrand.cases, seq int, mutation text, detail text, delta int) returns void
language sql as $$
	insert into diffrand.mutations values (c.id, seq, mutation, detail, delta)
$$;

create function diffrand.expect(c diffrand.cases, kind text, key jsonb) returns void
language sql as $$
	insert into diffrand.expected select c.id, kind, key where c.keyed
$$;

-- A random payload column of c.
create function diffrand.payload_column(c diffrand.cases) returns jsonb
language sql volatile as $$
	select e from jsonb_array_elements(c.cols) e where e->>'kind' is not null order by random() limit 1
$$;

-- Sets one column of the row at rid to another value; says what it did.
create function diffrand.change_column(c diffrand.cases, rid text, out newrid text, out detail text)
language plpgsql as $$
declare
	col jsonb := diffrand.payload_column(c);
	old text;
	nv record;
begin
	execute diffrand.at(format('select %I::text from %s where {at $1}', col->>'name', c.qual)) into old using rid;
	select * into nv from diffrand.other_value(col->>'kind', old, c.loose_dst or not (col->>'notnull')::bool);
	execute diffrand.at(format('update %s set %I = $1::%s where {at $2} returning {rid}', c.qual, col->>'name',
							   col->>'type'))
	   into newrid using nv.value, rid;
	detail := format('%s %s: %s -> %s (%s)', col->>'kind', col->>'name', coalesce(quote_literal(old), 'NULL'),
					 coalesce(quote_literal(nv.value), 'NULL'), nv.how);
end $$;

-- The value of each key column for a key no row of the plan has: its
-- first part past them all (seq apart), the others at random.
create function diffrand.fresh_key(c diffrand.cases, seq int) returns table (name text, expr text)
language sql volatile as $$
	select e->>'name',
		   replace(e->>'expr', '{c}',
				   format('%s::bigint', case when (e->>'key')::int = 1 then c.nrows + 1000 + seq
											 else diffrand.rand_int(0, (e->>'radix')::int - 1) end))
	  from jsonb_array_elements(c.cols) with ordinality x(e, o)
	 where (e->>'key')::int > 0
	 order by o
$$;

-- A new row, with a fresh key (NULL in the key columns named in nulls)
-- and random values.
create function diffrand.insert_row(c diffrand.cases, seq int, nulls text[]) returns text
language plpgsql as $$
declare
	col jsonb;
	names text[] := '{}';
	exprs text[] := '{}';
	kd diffrand.kinds;
	rid text;
	fresh jsonb := (select jsonb_object_agg(k.name, k.expr) from diffrand.fresh_key(c, seq) k);
begin
	for col in select e from jsonb_array_elements(c.cols) e loop
		names := names || format('%I', col->>'name');
		if col->>'name' = any (nulls) or (col->>'kind' is not null
										  and (c.loose_dst or not (col->>'notnull')::bool)
										  and diffrand.chance(0.15)) then
			exprs := exprs || format('null::%s', col->>'type');
		elsif (col->>'key')::int > 0 then
			exprs := exprs || (fresh->>(col->>'name'));
		elsif col->>'kind' is null then -- rowno
			exprs := exprs || (c.nrows + 1000 + seq)::text;
		else
			select * into kd from diffrand.kinds where kind = col->>'kind';
			exprs := exprs || format('%L::%s', kd.pool[diffrand.rand_int(1, cardinality(kd.pool))], col->>'type');
		end if;
	end loop;
	execute diffrand.at(format('insert into %s (%s) values (%s) returning {rid}', c.qual,
							   array_to_string(names, ', '),
				   array_to_string(exprs, ', ')))
	   into rid;
	return rid;
end $$;

-- Some of c's key columns (at least one), to set NULL.
create function diffrand.some_key_columns(c diffrand.cases) returns text[]
language plpgsql volatile as $$
declare
	names text[];
begin
	select array_agg(e->>'name') into names
	  from jsonb_array_elements(c.cols) e
	 where (e->>'key')::int > 0 and diffrand.chance(0.5);
	if names is null then
		select array[e->>'name'] into names
		  from jsonb_array_elements(c.cols) e where (e->>'key')::int > 0 order by random() limit 1;
	end if;
	return names;
end $$;

-- One mutation of case c on DST: false when it cannot be done (no row
-- left, a unique index, one that would meet an earlier mutation), and then
-- nothing was done.  Every kind records itself and the rows diff must
-- name; in a keyless table diff names none.
create function diffrand.mutate_one(c diffrand.cases, seq int, kind text) returns bool
language plpgsql as $$
declare
	r record;
	rid text;
	detail text;
	key jsonb;
	nulls text[];
	swapped text;
	first jsonb;
begin
	if kind = 'twin' then
		-- The twin sweep: the first row's column to its twin.
		execute diffrand.at(format('update %s set %I = $1::%s where %I = %s returning {rid}', c.qual, c.twin[1],
					   (select e->>'type' from jsonb_array_elements(c.cols) e where e->>'name' = c.twin[1]),
					   c.cols->0->>'name', replace(c.cols->0->>'expr', '{c}', '0::bigint')))
		   into rid using c.twin[3];
		key := diffrand.touch_new(c, rid);
		perform diffrand.record(c, seq, kind, format('%s %s: %L -> %L', key, c.twin[1], c.twin[2], c.twin[3]), 0);
		perform diffrand.expect(c, 'changed', key);
		return true;
	end if;

	if kind not in ('insert', 'null key') then
		select * into r from diffrand.pick_row(c);
		if r.rid is null then
			return false;
		end if;
		perform diffrand.touch(c, r.item);
	end if;

	if kind = 'change' then
		-- One column of one row, often to a value only a user tells apart.
		select * into rid, detail from diffrand.change_column(c, r.rid);
		if not c.keyed then
			perform diffrand.touch_new(c, rid);
		end if;
		perform diffrand.record(c, seq, kind, coalesce(r.key::text || ' ', '') || detail, 0);
		perform diffrand.expect(c, 'changed', r.key);

	elsif kind = 'delete' then
		execute diffrand.at(format('delete from %s where {at $1}', c.qual)) using r.rid;
		perform diffrand.record(c, seq, kind, coalesce(r.key::text, r.item), -1);
		perform diffrand.expect(c, 'missing', r.key);

	elsif kind in ('insert', 'null key') then
		-- A row SRC does not have; "null key": with a NULL in its key.
		nulls := case when kind = 'null key' then diffrand.some_key_columns(c) else '{}' end;
		key := diffrand.touch_new(c, diffrand.insert_row(c, seq, nulls));
		perform diffrand.record(c, seq, kind, coalesce(key::text, 'row'), 1);
		perform diffrand.expect(c, 'extra', key);

	elsif kind = 'rekey' then
		-- A row's key changed: a text key to its case swapped, else a new one.
		first := (select e from jsonb_array_elements(c.cols) e where (e->>'key')::int = 1);
		if first->>'type' = 'text' and diffrand.chance(0.6) then
			execute diffrand.at(format('select translate(%I, $1, $2) from %s where {at $3}', first->>'name', c.qual))
			   into swapped
			  using 'abcdefghijklmnopqrstuvwxyzäéñøABCDEFGHIJKLMNOPQRSTUVWXYZÄÉÑØ',
					'ABCDEFGHIJKLMNOPQRSTUVWXYZÄÉÑØabcdefghijklmnopqrstuvwxyzäéñø', r.rid;
		end if;
		if swapped is not null and swapped is distinct from r.key->>(first->>'name') then
			execute diffrand.at(format('update %s set %I = $1 where {at $2} returning {rid}', c.qual, first->>'name'))
			   into rid using swapped, r.rid;
		else
			execute diffrand.at(format('update %s set %s where {at $1} returning {rid}', c.qual,
						   (select string_agg(format('%I = %s', k.name, k.expr), ', ') from diffrand.fresh_key(c, seq) k)))
			   into rid using r.rid;
		end if;
		key := diffrand.touch_new(c, rid);
		perform diffrand.record(c, seq, kind, format('%s -> %s', r.key, key), 0);
		perform diffrand.expect(c, 'missing', r.key);
		perform diffrand.expect(c, 'extra', key);

	elsif kind in ('duplicate', 'duplicate changed') then
		-- A second row with the same key (DST without the key), or in a
		-- keyless table the same row twice; maybe with a column changed.
		execute diffrand.at(format('insert into %s select * from %s where {at $1} returning {rid}', c.qual, c.qual))
		   into rid using r.rid;
		detail := '';
		if kind = 'duplicate changed' then
			select * into rid, detail from diffrand.change_column(c, rid);
			detail := ', the copy''s ' || detail;
		end if;
		perform diffrand.record(c, seq, kind, coalesce(r.key::text, r.item) || detail, 1);
		perform diffrand.expect(c, 'duplicated', r.key);

	elsif kind = 'nullify' then
		-- A row's key partly or wholly set to NULL (DST without the key).
		nulls := diffrand.some_key_columns(c);
		execute diffrand.at(format('update %s set %s where {at $1} returning {rid}', c.qual,
					   (select string_agg(format('%I = null', n), ', ') from unnest(nulls) n)))
		   into rid using r.rid;
		key := diffrand.touch_new(c, rid);
		perform diffrand.record(c, seq, kind, format('%s -> %s', r.key, key), 0);
		perform diffrand.expect(c, 'missing', r.key);
		perform diffrand.expect(c, 'extra', key);
	else
		raise exception 'diffrand: no mutation %', kind;
	end if;
	return true;
exception
	when unique_violation or sqlstate 'DR001' then
		return false;
end $$;

-- A kind of mutation for case c: what its shape allows, a NULL key once.
create function diffrand.draw_mutation(c diffrand.cases) returns text
language plpgsql volatile as $$
declare
	kind text;
begin
	if not c.keyed then
		return diffrand.pick(array['change', 'delete', 'insert', 'duplicate'], array[45, 20, 20, 15]);
	elsif not c.loose_dst then
		return diffrand.pick(array['change', 'delete', 'insert', 'rekey'], array[50, 17, 17, 16]);
	end if;
	kind := diffrand.pick(array['change', 'delete', 'insert', 'rekey', 'duplicate', 'duplicate changed',
								'null key', 'nullify'],
						  array[34, 12, 12, 10, 12, 6, 7, 7]);
	if kind in ('null key', 'nullify')
	   and exists (select from diffrand.mutations m where m.case_id = c.id and m.mutation in ('null key', 'nullify'))
	then
		kind := 'change';
	end if;
	return kind;
end $$;

-- Mutates the tables on DST: most get none, some one, a few several; the
-- large ones always several, the loose one with a NULL key and a duplicate.
create function diffrand.mutate(seed int) returns void
language plpgsql as $$
declare
	c diffrand.cases;
	n int;
	seq int;
	try int;
	kind text;
begin
	-- random() draws follow the order rows are read in: one process, from the start.
	perform set_config('max_parallel_workers_per_gather', '0', true);
	perform set_config('synchronize_seqscans', 'off', true);
	perform setseed(diffrand.seed_fraction(seed, 2));
	for c in select * from diffrand.cases order by id loop
		n := case when c.twin is not null then 1
				  when c.nrows > 50000 then diffrand.rand_int(3, 4)
				  else diffrand.pick(array['0', '1', '2', '3', '4', '6'], array[40, 32, 12, 8, 5, 3])::int end;
		for seq in 1 .. n loop
			for try in 1 .. 10 loop
				kind := case when c.twin is not null then 'twin'
							 when c.nrows > 50000 and seq <= 2
								 then (case when c.loose_dst then array['null key', 'duplicate']
											else array['change', 'delete'] end)[seq]
							 else diffrand.draw_mutation(c) end;
				exit when diffrand.mutate_one(c, seq, kind) or diffrand.mutate_one(c, seq, 'insert');
			end loop;
		end loop;
	end loop;
end $$;

-- The fingerprint of every table on this side: rows, and the md5 of their
-- text forms (which tell 1.0 from 1.00, -0 from 0, '1 day' from
-- '24:00:00'), sorted bytewise.
create function diffrand.fingerprint() returns table (case_id int, nrows bigint, md5 text)
language plpgsql as $$
declare
	c diffrand.cases;
begin
	for c in select * from diffrand.cases order by id loop
		case_id := c.id;
		execute format('select count(*), md5(coalesce(string_agg(r, E''\n'' order by r collate "C"), ''''))'
					   ' from (select %s as r from %s) s', diffrand.sql_row(c), c.qual)
		   into nrows, md5;
		return next;
	end loop;
end $$;

-- The checks, on DST once the reports are in diffrand.report.  Each returns
-- one line per disagreement, naming the case, its table, what was done to
-- it, and what diff said.

-- A case as a reader of a failure needs it.
create function diffrand.label(c diffrand.cases) returns text
language sql stable as $$
	select format('case %s %s (%s, %s%s%s%s%s, %s rows; %s)', c.id, c.qual, c.shape, c.variant,
				  case when c.loose_dst then ', DST without the key' else '' end,
				  coalesce(', ' || c.partitioning, ''),
				  case when c.reversed_dst then ', DST columns reversed' else '' end,
				  case when c.dropped_src then ', SRC with a dropped column' else '' end, c.nrows,
				  coalesce((select string_agg(format('%s %s', m.mutation, m.detail), '; ' order by m.seq)
							  from diffrand.mutations m where m.case_id = c.id), 'not mutated'))
$$;

-- What a report says of each case.
create view diffrand.said as
	select r.mode, c.id as case_id, t
	  from diffrand.report r
	 cross join jsonb_array_elements(r.doc->'tables') t
	  join diffrand.cases c on c.schema_name = t->>'schema' and c.name = t->>'name';

-- The generator itself: SRC holds the plan's rows, DST those and the
-- mutations', and the fingerprints differ exactly where a mutation was made.
create function diffrand.check_generator() returns setof text
language sql stable as $$
	select diffrand.label(c) || ': ' || problem
	  from diffrand.cases c
	  left join diffrand.fp_src s on s.case_id = c.id
	  left join diffrand.fp_dst d on d.case_id = c.id
	 cross join lateral (select coalesce(sum(m.delta), 0) as delta, count(*) as n
						   from diffrand.mutations m where m.case_id = c.id) m
	 cross join lateral (select case
		 when s.case_id is null or d.case_id is null then 'no fingerprint'
		 when s.nrows <> c.nrows then format('SRC has %s rows, not %s', s.nrows, c.nrows)
		 when d.nrows <> c.nrows + m.delta then format('DST has %s rows, not %s', d.nrows, c.nrows + m.delta)
		 when m.n > 0 and s.md5 = d.md5 then 'mutated, yet both sides'' fingerprints agree'
		 when m.n = 0 and s.md5 <> d.md5 then 'not mutated, yet the fingerprints differ'
		 end as problem) p
	 where problem is not null
	 order by c.id
$$;

-- Every case is in the report once, and its status is "equal" exactly when
-- both sides' fingerprints agree, else "different".
create function diffrand.check_status(run text) returns setof text
language sql stable as $$
	(select diffrand.label(c) || ': ' || problem
	  from diffrand.cases c
	  join diffrand.fp_src s on s.case_id = c.id
	  join diffrand.fp_dst d on d.case_id = c.id
	 cross join lateral (select count(*) as n, min(t->>'status') as status, min(t->>'note') as note
						   from diffrand.said w where w.mode = run and w.case_id = c.id) w
	 cross join lateral (select case
		 when w.n = 0 then 'not in the report'
		 when w.n > 1 then format('in the report %s times', w.n)
		 when w.status is distinct from
			  case when s.nrows = d.nrows and s.md5 = d.md5 then 'equal' else 'different' end
			 then format('diff said %s (%s), but the fingerprints %s', w.status, coalesce(w.note, 'no note'),
						 case when s.md5 = d.md5 then 'agree' else 'differ' end)
		 end as problem) p
	 where problem is not null
	 order by c.id)
	union all
	select format('%s: in the report, not a case', t->>'table')
	  from diffrand.report r
	 cross join jsonb_array_elements(r.doc->'tables') t
	 where r.mode = run
	   and not exists (select from diffrand.cases c where c.schema_name = t->>'schema' and c.name = t->>'name')
$$;

-- The rows diff names in a keyed table (a key on SRC): every row a mutation
-- made differ, with its kind, and no other, under the key SRC has.
create function diffrand.check_rows(run text) returns setof text
language sql stable as $$
	select diffrand.label(c) || ': ' || problem
	  from diffrand.cases c
	  join diffrand.said w on w.mode = run and w.case_id = c.id
	 cross join lateral (
		select format('key %s, not %s', w.t->'key', k.names) as problem
		  from (select jsonb_agg(e->>'name' order by (e->>'key')::int) filter (where (e->>'key')::int > 0)
						   as names
				  from jsonb_array_elements(c.cols) e) k
		 where c.keyed and (w.t->'key' is distinct from coalesce(k.names, '[]') or w.t->'rows_locatable' <> 'true')
		union all
		select 'rows_truncated' where (w.t->>'rows_truncated')::bool
		union all
		select format('%s %s not named', x.kind, x.key)
		  from (select e.kind, e.key from diffrand.expected e where e.case_id = c.id
				except all
				select r->>'kind', r->'key' from jsonb_array_elements(w.t->'rows') r) x
		union all
		select format('named %s %s, which no mutation made', x.kind, x.key)
		  from (select r->>'kind' as kind, r->'key' as key from jsonb_array_elements(w.t->'rows') r
				except all
				select e.kind, e.key from diffrand.expected e where e.case_id = c.id) x
	 ) p
	 where c.keyed
	 order by c.id
$$;

-- A keyless table (no usable key on SRC): diff says it cannot locate rows
-- and names none.
create function diffrand.check_keyless(run text) returns setof text
language sql stable as $$
	select diffrand.label(c) || ': ' || format('rows_locatable is %s, key %s, %s rows named',
											   w.t->'rows_locatable', w.t->'key', jsonb_array_length(w.t->'rows'))
	  from diffrand.cases c
	  join diffrand.said w on w.mode = run and w.case_id = c.id
	 where not c.keyed
	   and (w.t->'rows_locatable' <> 'false' or w.t->'key' <> '[]' or jsonb_array_length(w.t->'rows') > 0)
	 order by c.id
$$;

-- --count: each side's rows as the plan and the mutations make them, and
-- "equal" exactly when they are the same.
create function diffrand.check_counts(run text) returns setof text
language sql stable as $$
	select diffrand.label(c) || ': ' || problem
	  from diffrand.cases c
	 cross join lateral (select coalesce(sum(m.delta), 0) as delta
						   from diffrand.mutations m where m.case_id = c.id) m
	 cross join lateral (select count(*) as n, min((t->>'rows_src')::bigint) as src,
								min((t->>'rows_dst')::bigint) as dst, min(t->>'status') as status
						   from diffrand.said w where w.mode = run and w.case_id = c.id) w
	 cross join lateral (select case
		 when w.n <> 1 then format('in the report %s times', w.n)
		 when w.src is distinct from c.nrows::bigint or w.dst is distinct from c.nrows + m.delta
			 then format('diff counted %s and %s rows, not %s and %s', w.src, w.dst, c.nrows, c.nrows + m.delta)
		 when w.status is distinct from case when m.delta = 0 then 'equal' else 'different' end
			 then format('diff said %s over %s and %s rows', w.status, w.src, w.dst)
		 end as problem) p
	 where problem is not null
	 order by c.id
$$;

-- What the run holds, for the test's log.
create function diffrand.summary() returns text
language sql stable as $$
	select format('%s cases (%s keyless, %s with a DST without the key, %s over 50000 rows, %s mutated), '
				  '%s mutations (%s)',
				  (select count(*) from diffrand.cases),
				  (select count(*) from diffrand.cases where not keyed),
				  (select count(*) from diffrand.cases where loose_dst),
				  (select count(*) from diffrand.cases where nrows > 50000),
				  (select count(distinct case_id) from diffrand.mutations),
				  (select count(*) from diffrand.mutations),
				  (select string_agg(format('%s %s', n, mutation), ', ' order by n desc, mutation)
					 from (select mutation, count(*) as n from diffrand.mutations group by mutation) x))
$$;
