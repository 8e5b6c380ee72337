#!/usr/bin/env bats
# report against a real migration: a small flow on two clusters (checks
# with a blocker fixed, create-pub, create-sub, copy-progress --wait and
# --watch, with the heartbeat on, a copy-diff that finds a row and one that
# finds none, cutover with the demo's re-routing hook), then the report's
# page and JSON: the timeline, the checks, the lag charts, the verdicts,
# the switch, the escaping of a hostile table name, and the page in
# headless Chromium, on screen and printed.
# The last tests need no server: records written by hand, for the verdict's
# cases and the refusal of an unreadable record.

# run_step NAME CMD...: runs a step of the flow, logs its output, keeps its status in $FLOW/NAME.rc.
run_step() {
	local name=$1 rc=0
	shift
	printf '\n### %s: %s\n' "$name" "$*" >>"$FLOW/log"
	"$@" >>"$FLOW/log" 2>&1 || rc=$?
	printf '%s\n' "$rc" >"$FLOW/$name.rc"
	printf '### exit %s\n' "$rc" >>"$FLOW/log"
}

setup_file() {
	load test_helper/common
	FLOW=$BATS_FILE_TMPDIR/flow
	KITS=$BATS_FILE_TMPDIR/kits
	KIT=$KITS/app
	HOSTILE='<script>alert(1)</script>'
	export FLOW KITS KIT HOSTILE
	mkdir -p "$FLOW" "$KITS"
	pg_start SRC
	pg_start DST
	local side
	for side in SRC DST; do
		pg_sql "$side" postgres "create database app"
		pg_psql "$side" app <<'SQL'
create role app_user login;
create table public.items (id bigserial primary key, name text not null);
create table public."<script>alert(1)</script>" (id int primary key, v text);
create table public.nokey (a int, b text);
grant select, insert, update, delete on all tables in schema public to app_user;
grant usage on all sequences in schema public to app_user;
SQL
	done
	pg_psql SRC app <<'SQL'
insert into public.items (name) select 'item ' || g from generate_series(1, 2000) g;
insert into public."<script>alert(1)</script>" select g, 'v' || g from generate_series(1, 10) g;
insert into public.nokey select g, 'b' from generate_series(1, 5) g;
SQL
	write_config "$KITS/app.yml" SRC app DST app "app_roles: [app_user]" "seq_shift: 100" "heartbeat: true"
	"$MIGKIT" render -q -t "$MIGKIT_SRCDIR/examples/demo/templates" -o "$KIT" "$KITS/app.yml"
	grep -E '^export SRCPG=' "$KIT/activate" | sed 's/^export SRCPG=//' >"$KIT/data/app-target"

	run_step check-misc "$KIT/check-misc"
	run_step check-repl-1 "$KIT/check-repl"
	run_step check-repl-fix "$KIT/check-repl" --fix -y
	run_step check-repl-2 "$KIT/check-repl"
	run_step create-pub "$KIT/create-pub" -y
	run_step create-sub "$KIT/create-sub" -y
	run_step progress-wait "$KIT/copy-progress" --wait --timeout 60 --interval 0.5
	# Writes while copy-progress watches and DST's apply worker waits on a
	# lock for a second and a half: a lag that rises and falls.
	pg_psql DST app -c "begin; lock table public.items in share mode; select pg_sleep(1.5); commit" >/dev/null 2>&1 &
	(for _ in $(seq 1 8); do
		pg_sql SRC app "insert into public.items (name) select 'more' from generate_series(1, 500)" >/dev/null
		sleep 0.2
	done) &
	run_step progress-watch "$KIT/copy-progress" --watch 0.3 --timeout 2.5
	wait
	run_step progress-wait-2 "$KIT/copy-progress" --wait --timeout 60 --interval 0.5
	# A row only DST has: the first copy-diff names it, the second, once it is gone, finds none.
	pg_sql DST app "insert into public.\"$HOSTILE\" values (999, 'only on DST')"
	run_step diff-1 "$KIT/copy-diff" --checksum --retries 0
	pg_sql DST app "delete from public.\"$HOSTILE\" where id = 999"
	run_step diff-2 "$KIT/copy-diff" --checksum
	run_step cutover "$KIT/cutover" -y --checksum 'public.*'
	wc -l <"$KIT/log/journal" >"$FLOW/journal-lines"
	run_step report "$KIT/report"
}

teardown_file() {
	load test_helper/common
	pg_stop_all
}

setup() {
	load test_helper/common
	cd "$BATS_TEST_TMPDIR" || return
}

# flow_rc NAME: the exit status a step of the flow had.
flow_rc() {
	cat "$FLOW/$1.rc"
}

# a fresh kit of the same config, with nothing run: for records written by hand.
fresh_kit() {
	"$MIGKIT" render -q -o "$BATS_TEST_TMPDIR/kit" "$KITS/app.yml"
	printf '%s' "$BATS_TEST_TMPDIR/kit"
}

# chromium_run ARGS...: headless Chromium on the page, its own profile and home.
chromium_run() {
	HOME=$BATS_TEST_TMPDIR chromium --headless --disable-gpu --no-sandbox --enable-logging=stderr --v=0 \
		--user-data-dir="$BATS_TEST_TMPDIR/profile" --no-first-run --window-size=1100,3000 "$@"
}

# chromium_dom PAGE: the DOM Chromium built from PAGE in $output, and in
# $console what its console said (errors, refusals of the page's CSP).
chromium_dom() {
	run -0 --separate-stderr chromium_run --dump-dom "file://$1"
	console=$(grep -E ':CONSOLE|Refused to' <<<"$stderr" || true)
}

need_chromium() {
	command -v chromium >/dev/null ||
		skip "chromium is not installed and could not be: ./bootstrap installs it (apt-get install chromium)"
}

@test "the flow ran: a blocker found and fixed, two copy-diffs, cutover done, report exit 0" {
	[ "$(flow_rc report)" = 0 ] || fail "$(tail -n 60 "$FLOW/log")"
	assert_equal "$(flow_rc check-repl-1)" 1
	assert_equal "$(flow_rc check-repl-fix)" 0
	assert_equal "$(flow_rc check-repl-2)" 0
	assert_equal "$(flow_rc progress-wait)" 0
	assert_equal "$(flow_rc diff-1)" 1
	assert_equal "$(flow_rc diff-2)" 0
	assert_equal "$(flow_rc cutover)" 0
	run -0 grep -F "report: $KIT/data/report.html" "$FLOW/log"
	[ -s "$KIT/data/report.html" ] && [ -s "$KIT/data/report.json" ]
	assert_equal "$(stat -c %a "$KIT/data/report.html")" 600
	run -0 jq -r .verdict.status "$KIT/data/report.json"
	assert_output done-verified
}

@test "copy-progress keeps one JSON line per refresh in data/progress.jsonl: --wait, --watch and a single run" {
	local before after
	run -0 jq -s 'length' "$KIT/data/progress.jsonl"
	[ "$output" -ge 6 ] || fail "only $output samples"
	# Three runs (--wait, --watch, --wait), each with its own "run".
	run -0 jq -rs 'map(.run) | unique | length' "$KIT/data/progress.jsonl"
	assert_output 3
	run -0 jq -r 'select(.tables.total != 3 or (.lag.bytes | type) != "number" or (.time | test("^20[0-9-]+T[0-9:.]+Z$") | not)) | .time' \
		"$KIT/data/progress.jsonl"
	assert_output ""
	run -0 jq -rs '[.[] | select(.lag.bytes > 0)] | length' "$KIT/data/progress.jsonl"
	[ "$output" -ge 1 ] || fail "the writes during --watch left no lag in any sample"
	before=$(wc -l <"$KIT/data/progress.jsonl")
	run "$KIT/copy-progress"
	after=$(wc -l <"$KIT/data/progress.jsonl")
	assert_equal "$after" "$((before + 1))"
	assert_equal "$(stat -c %a "$KIT/data/progress.jsonl")" 600
	# --dry-run keeps nothing.
	run "$KIT/copy-progress" --dry-run
	assert_equal "$(wc -l <"$KIT/data/progress.jsonl")" "$after"
}

@test "the timeline holds every journal line with its time, duration and exit status, cutover's steps too" {
	local n
	n=$(cat "$FLOW/journal-lines")
	run -0 jq '.timeline | length' "$KIT/data/report.json"
	assert_output "$n"
	run -0 jq -r '.timeline[] | select(.part_of == "cutover") | .step' "$KIT/data/report.json"
	assert_line catch-up
	assert_line re-routing
	run -0 jq -r '[.timeline[] | select(.name == "check-repl")] | map("\(.exit) \(.args)") | join(",")' "$KIT/data/report.json"
	assert_output --partial "1 ,0 --fix -y,0 "
	run -0 jq -r '.timeline[] | select(.name == "cutover") | "\(.exit) \(.seconds > 0) \(.ended_at | test("Z$"))"' "$KIT/data/report.json"
	assert_output "0 true true"
	run -0 grep -c '^<tr class="step' "$KIT/data/report.html"
	assert_output "$n"
	run -0 grep -F '<td class="step">cutover › catch-up</td>' "$KIT/data/report.html"
}

@test "the checks: check-repl's blocker, and the --fix run that cleared it; the servers' versions" {
	run -0 jq -r '.checks.blockers[] | "\(.script)|\(.blocker)|\(.cleared_by_args | join(" "))"' "$KIT/data/report.json"
	assert_output --regexp '^check-repl\|public\.nokey cannot replicate UPDATE/DELETE: [^|]*\|--fix -y$'
	run -0 jq -r '[.checks.runs[] | .script] | unique | join(" ")' "$KIT/data/report.json"
	assert_output --partial "check-misc"
	assert_output --partial "check-repl"
	run -0 grep -F 'no longer found by the run at' "$KIT/data/report.html"
	run -0 jq -r '.report.src.server_version_num, .report.dst.server_version_num' "$KIT/data/report.json"
	assert_line "$(pg_sql SRC app "show server_version_num")"
	assert_line "$(pg_sql DST app "show server_version_num")"
	run -0 grep -F "PostgreSQL $(pg_sql SRC app "show server_version")" "$KIT/data/report.html"
}

@test "the initial copy and the lag chart: an inline SVG with a line through the samples" {
	local points
	run -0 jq -r '.initial_copy | "\(.tables) \(.size_bytes > 0) \(.rows) \(.seconds_max > 0) \(.all_streaming_at | type)"' \
		"$KIT/data/report.json"
	# The rows: the first copy-diff after the copy, once the writes during --watch were in.
	assert_output "3 true 6015 true string"
	run -0 jq -r '.lag | "\(.samples >= 6) \(.runs) \(.points | length >= 6) \(.max_bytes > 0)"' "$KIT/data/report.json"
	assert_output "true 3 true true"
	run -0 grep -F '<svg class="chart" id="lag-bytes-chart"' "$KIT/data/report.html"
	points=$(grep -o '<path class="line" d="[^"]*"' "$KIT/data/report.html" | head -n 1 | grep -oE '[0-9.]+,[0-9.]+' | wc -l)
	[ "$points" -ge 6 ] || fail "the lag line has $points points"
	run -0 grep -c '<circle class="dot"' "$KIT/data/report.html"
	run -0 grep -F '>create-sub</text>' "$KIT/data/report.html"
	# The heartbeat's seconds: a chart of their own, and said to be the heartbeat's.
	run -0 jq -r '[.[] | select(.lag.seconds_source == "heartbeat" and (.lag.seconds | type) == "number")] | length' \
		-s "$KIT/data/progress.jsonl"
	[ "$output" -ge 1 ] || fail "no sample has the heartbeat's seconds"
	run -0 jq -r '.lag | "\(.max_seconds | type) \(.last.seconds_source)"' "$KIT/data/report.json"
	assert_output "number heartbeat"
	run -0 grep -F '<svg class="chart" id="lag-seconds-chart"' "$KIT/data/report.html"
	run -0 grep -F 'Lag in seconds: from the heartbeat table, end to end.' "$KIT/data/report.html"
}

@test "the verdicts: both copy-diff runs, the row the first one named, and the sequences cutover set" {
	run -0 jq -r '.verdicts.diffs | map("\(.mode) \(.status) \(.exit)") | join(",")' "$KIT/data/report.json"
	assert_output "checksum different 1,checksum equal 0"
	run -0 jq -r '.verdicts.diffs[0].differences[] | "\(.table)|\(.rows[0].kind)|\(.rows[0].key.id)"' "$KIT/data/report.json"
	assert_output "public.\"$HOSTILE\"|extra|999"
	run -0 grep -F 'extra: <code>id=999</code>' "$KIT/data/report.html"
	run -0 jq -r '.verdicts.sequence_syncs[] | "\(.by) \(.shift) \(.copied) \(.check.ok)"' "$KIT/data/report.json"
	assert_output "cutover 100 1 true"
	run -0 grep -F '<code>public.items_id_seq</code>' "$KIT/data/report.html"
}

@test "the switch: the fence window, each step's time, the LSNs and the verification, as cutover.json has them" {
	local ms lsn step
	ms=$(jq -r .fence_window_ms "$KIT/data/cutover.json")
	lsn=$(jq -r .fence_lsn "$KIT/data/cutover.json")
	[[ $ms =~ ^[0-9]+$ ]] && [ "$ms" -gt 0 ]
	run -0 grep -F "<strong>$ms ms</strong>" "$KIT/data/report.html"
	run -0 grep -F "<dt>Fence LSN</dt><dd>$lsn</dd>" "$KIT/data/report.html"
	for step in preflight prepare-reverse disable-src catch-up copy-seq verify stop-forward re-routing; do
		grep -qF "<tr><td>$step</td><td class=\"num\">$(jq -r --arg s "$step" '.steps[] | select(.step == $s) | .ms' "$KIT/data/cutover.json") ms</td>" \
			"$KIT/data/report.html" || fail "no row for step $step"
	done
	run -0 jq -r '.switch.cutover | "\(.status) \(.fence_window_ms) \(.verification.result)"' "$KIT/data/report.json"
	assert_output "done $ms equal"
	run -0 grep -F '<p class="headline">Migration done, verified equal</p>' "$KIT/data/report.html"
	run -0 jq -r '.verdict.evidence[]' "$KIT/data/report.json"
	assert_line --partial "SRC was fenced for $ms ms"
	assert_line --partial "content checksums of 3 table(s) equal"
	run -0 grep -F 'Not used: no data/rollback.json' "$KIT/data/report.html"
}

@test "a hostile table name is text on the page, never markup; the page loads nothing from elsewhere" {
	run -1 grep -F "$HOSTILE" "$KIT/data/report.html"
	run -0 grep -cF '&lt;script&gt;alert(1)&lt;/script&gt;' "$KIT/data/report.html"
	[ "$output" -ge 2 ] || fail "the escaped name is shown $output time(s)"
	run -1 grep -Eio '<script|<link|<img|<iframe|<object|src=|href=|url\(|@import' "$KIT/data/report.html"
	run -0 grep -F "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">" \
		"$KIT/data/report.html"
	run -0 jq -r --arg h "public.\"$HOSTILE\"" '[.. | strings | select(. == $h)] | length > 0' "$KIT/data/report.json"
	assert_output true
}

@test "the browser test sees a console error: a page that logs one, a page its CSP keeps from loading" {
	need_chromium
	printf '<!doctype html><title>t</title><p>x</p><script>console.error("broken " + 42)</script>\n' >bad.html
	chromium_dom "$PWD/bad.html"
	[[ $console == *'"broken 42"'* ]] || fail "the console error was not seen: $stderr"
	sed -n 's|.*\(<meta http-equiv="Content-Security-Policy"[^>]*>\).*|<!doctype html><head>\1</head><img alt="" src="http://127.0.0.1:9/x.png">|p' \
		"$KIT/data/report.html" >csp.html
	chromium_dom "$PWD/csp.html"
	[[ $console == *"Content Security Policy"* ]] || fail "the refusal of the image was not seen: $stderr"
}

@test "headless Chromium shows the page with no console error; its DOM has the chart and the tables; a screenshot" {
	need_chromium
	chromium_dom "$KIT/data/report.html"
	[ -z "$console" ] || fail "console messages: $console"
	[[ $output == *'<svg class="chart" id="lag-bytes-chart"'*'<path class="line" d="M'* ]] || fail "no chart in the DOM"
	[[ $output == *'<table id="timeline-table">'*'<tbody>'*'<tr class="step">'* ]] || fail "no timeline table in the DOM"
	[[ $output == *'<table id="diffs">'* ]] || fail "no verdicts table in the DOM"
	[[ $output == *'<table class="switch-steps">'* ]] || fail "no switch steps in the DOM"
	[[ $output == *'&lt;script&gt;alert(1)&lt;/script&gt;'* ]] || fail "the hostile name is not text in the DOM"
	[[ $output != *"$HOSTILE"* ]]
	run -0 chromium_run --screenshot="$BATS_TEST_TMPDIR/report.png" "file://$KIT/data/report.html"
	[ -s "$BATS_TEST_TMPDIR/report.png" ]
	run -0 bash -c 'head -c 8 "$1" | od -An -tx1 | tr -d " \n"' _ "$BATS_TEST_TMPDIR/report.png"
	assert_output 89504e470d0a1a0a
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/report.png")" -gt 20000 ]
	# Printed: the print style, and a PDF of more than one page.
	run -0 grep -F '@media print{' "$KIT/data/report.html"
	run -0 chromium_run --no-pdf-header-footer --print-to-pdf="$BATS_TEST_TMPDIR/report.pdf" "file://$KIT/data/report.html"
	run -0 head -c 5 "$BATS_TEST_TMPDIR/report.pdf"
	assert_output '%PDF-'
	run -0 grep -ac '/Type /Page$' "$BATS_TEST_TMPDIR/report.pdf"
	[ "$output" -ge 2 ] || fail "the printed report has $output page(s)"
}

@test "report --note keeps the operator's note, and the page shows it as text" {
	run -0 "$KIT/report" --note 'large objects copied <b>by hand</b>'
	run -0 jq -r .note "$KIT/data/notes.jsonl"
	assert_output 'large objects copied <b>by hand</b>'
	run -0 grep -F '<td>large objects copied &lt;b&gt;by hand&lt;/b&gt;</td>' "$KIT/data/report.html"
	run -2 --separate-stderr "$KIT/report" --note ''
	[[ $stderr == *"--note needs a text"* ]]
	run -2 --separate-stderr "$KIT/report" --frobnicate
	[[ $stderr == *"unknown option '--frobnicate'"* ]]
}

@test "a kit with nothing run: every section says not recorded, no verdict is claimed, exit 1" {
	local kit
	kit=$(fresh_kit)
	run -1 "$kit/report" --json
	assert_equal "$(jq -r .verdict.status <<<"$output")" not-started
	assert_equal "$(jq -r '.initial_copy.rows, .lag.last, .switch.cutover, .not_carried' <<<"$output" | sort -u)" null
	run -0 grep -c 'not recorded' "$kit/data/report.html"
	[ "$output" -ge 5 ]
	run -1 grep -F 'verified equal' "$kit/data/report.html"
	# -o: the page and the JSON where asked.
	run -2 --separate-stderr "$MIGKIT" report -q -o "$BATS_TEST_TMPDIR/nodir/r.html" "$kit"
	[[ $stderr == *"cannot write $BATS_TEST_TMPDIR/nodir/r.html"* ]]
	mkdir "$BATS_TEST_TMPDIR/out"
	run -1 "$MIGKIT" report -q -o "$BATS_TEST_TMPDIR/out/r.html" "$kit"
	[ -s "$BATS_TEST_TMPDIR/out/r.html" ] && [ -s "$BATS_TEST_TMPDIR/out/r.json" ]
	run -2 --separate-stderr "$MIGKIT" report "$BATS_TEST_TMPDIR/out"
	[[ $stderr == *"is not a migkit kit (it has no activate)"* ]]
}

@test "a record that cannot be read stops the report, naming the file and the line; one being written is left out" {
	local kit
	kit=$(fresh_kit)
	printf '{"time":"2024-05-01T10:00:00Z","lag":{"bytes":1}}\n{"time": oops}\n' >"$kit/data/progress.jsonl"
	run -2 --separate-stderr "$MIGKIT" report -q "$kit"
	[[ $stderr == *"$kit/data/progress.jsonl:2:10: not a value: the line is not the record the kit writes; fix or remove it"* ]] ||
		fail "$stderr"
	[ ! -e "$kit/data/report.html" ]
	# The kit's report says it the same way, on one line.
	run -2 --separate-stderr "$kit/report"
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == "migkit report: error: $kit/data/progress.jsonl:2:10: "* ]] || fail "$stderr"
	assert_output ""
	# A last line without its newline is being written.
	printf '{"time":"2024-05-01T10:00:00Z","lag":{"bytes":1}}\n{"time":"2024-05-01T10:00:0' >"$kit/data/progress.jsonl"
	run -1 "$MIGKIT" report --json "$kit"
	assert_equal "$(jq -r .lag.samples <<<"$output")" 1
	printf '2024-05-01T10:00:00Z\tcheck-db\texit=zero\t0.1s\t\n' >"$kit/log/journal"
	run -2 --separate-stderr "$MIGKIT" report -q "$kit"
	[[ $stderr == *"$kit/log/journal:1: not a journal line"* ]] || fail "$stderr"
	printf '{"started_at":"2024-05-01T10:00:00Z","exit":0,"result":{"mode":"count"' >"$kit/data/diff-20240501T100000.000Z.json"
	: >"$kit/log/journal"
	run -2 --separate-stderr "$MIGKIT" report -q "$kit"
	[[ $stderr == *"diff-20240501T100000.000Z.json:1:"*"fix it or move it out of data/"* ]] || fail "$stderr"
}

# journal LINE...: the kit's journal, as mk_journal_line writes it (time step exit seconds args).
journal() {
	local line
	for line in "$@"; do printf '%s\n' "$line"; done | tr '|' '\t' >"$KIT2/log/journal"
}

# diff_run NAME STARTED EXIT STATUS AFTER_FENCE [ARGS_JSON]: a copy-diff run as copy-diff keeps it.
diff_run() {
	printf '{"script":"copy-diff","started_at":"%s","finished_at":"%s","args":%s,"exit":%s,"result":{"mode":"checksum","status":"%s","after_fence":%s,"tables":[],"summary":{"tables":3,"equal":3}}}\n' \
		"$2" "$2" "${6:-[\"--checksum\"]}" "$3" "$4" "$5" >"$KIT2/data/diff-$1.json"
}

@test "a switch by hand is verified equal only by a copy-diff of the whole set after the fence" {
	KIT2=$(fresh_kit)
	journal "2024-05-01T10:00:00Z|create-sub|exit=0|0.500s|-y" \
		"2024-05-01T10:05:00Z|disable-src|exit=0|0.200s|" \
		"2024-05-01T10:05:02Z|copy-seq|exit=0|0.100s|100" \
		"2024-05-01T10:05:03Z|copy-diff|exit=0|0.900s|--checksum" \
		"2024-05-01T10:05:04Z|re-routing|exit=0|0.050s|"
	diff_run 20240501T100400.000Z 2024-05-01T10:04:00.000Z 0 equal false
	run -1 "$MIGKIT" report --json "$KIT2"
	assert_equal "$(jq -r '.verdict.status, .switch.by_hand.re_routing_ended_at' <<<"$output")" "done-unverified
2024-05-01T10:05:04Z"
	# Of a part of the set only: not yet.
	diff_run 20240501T100502.100Z 2024-05-01T10:05:02.100Z 0 equal true '["--checksum","--table","public.*"]'
	run -1 "$MIGKIT" report --json "$KIT2"
	assert_equal "$(jq -r .verdict.status <<<"$output")" done-unverified
	diff_run 20240501T100502.500Z 2024-05-01T10:05:02.500Z 0 equal true
	run -0 "$MIGKIT" report --json "$KIT2"
	assert_equal "$(jq -r '.verdict.status, .verdict.verified_by' <<<"$output")" "done-verified
data/diff-20240501T100502.500Z.json"
	run -0 grep -F 'the journal has each step' "$KIT2/data/report.html"
}

@test "an aborted cutover, a cutover with --verify none, and a rollback are no verified migration" {
	KIT2=$(fresh_kit)
	journal "2024-05-01T10:00:00Z|create-sub|exit=0|0.500s|-y"
	printf '{"script":"cutover","status":"aborted","started_at":"2024-05-01T10:05:00.000Z","fence_window_ms":null,"steps":[{"step":"preflight","ms":5,"exit":0,"detail":null},{"step":"catch-up","ms":30000,"exit":1,"detail":null},{"step":"undo","ms":9,"exit":0,"detail":null}],"verification":{"result":null,"details":null},"error":"DST did not catch up"}\n' \
		>"$KIT2/data/cutover.json"
	run -1 "$MIGKIT" report --json "$KIT2"
	assert_equal "$(jq -r '.verdict.status, .verdict.headline' <<<"$output")" "aborted
Cutover aborted at catch-up: the application stayed on SRC"
	printf '{"script":"cutover","status":"done","started_at":"2024-05-01T10:05:00.000Z","fence_window_ms":800,"verify":"none","steps":[],"verification":{"result":null,"details":null},"src_changes_not_on_dst":[],"error":null}\n' \
		>"$KIT2/data/cutover.json"
	run -1 "$MIGKIT" report --json "$KIT2"
	assert_equal "$(jq -r '.verdict.status, (.verdict.gaps | join(";"))' <<<"$output")" "done-unverified
cutover compared nothing before re-routing (--verify none)"
	printf '{"script":"rollback","status":"done","started_at":"2024-05-01T11:00:00.000Z","steps":[],"verification":{"result":"equal","details":{}}}\n' \
		>"$KIT2/data/rollback.json"
	run -1 "$MIGKIT" report --json "$KIT2"
	assert_equal "$(jq -r .verdict.status <<<"$output")" rolled-back
	assert_equal "$(jq -r '.switch.rollback.status' <<<"$output")" done
	run -0 grep -F '<p class="headline">Rolled back: the application is on SRC again</p>' "$KIT2/data/report.html"
	run -1 grep -F 'Not used: no data/rollback.json' "$KIT2/data/report.html"
}

@test "copy-seq keeps each copy in data/seq-TIME.json, and the report lists it with cutover's" {
	local doc
	run -0 "$KIT/copy-seq" -y 100
	doc=$(ls "$KIT"/data/seq-*.json)
	run -0 jq -r '"\(.script) \(.exit) \(.args | join(" ")) \(.result.copied) \(.result.check.ok)"' "$doc"
	assert_output "copy-seq 0 -y 100 1 true"
	assert_equal "$(stat -c %a "$doc")" 600
	run -0 "$KIT/report" --json
	run -0 jq -r '.verdicts.sequence_syncs | map("\(.by) \(.exit) \(.copied)") | join(",")' <<<"$output"
	assert_output "copy-seq 0 1,cutover 0 1"
	# No leftover of the run's own files in data/.
	run -0 find "$KIT/data" -name '.*'
	assert_output ""
}
