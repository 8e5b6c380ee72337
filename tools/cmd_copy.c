/*
 * migkit copy: the initial copy of the migration's tables done by migkit
 * itself, faster than the subscription's own table sync: a new logical
 * replication slot exports a snapshot; every table is copied inside it
 * over --jobs connections per side, large ones in ranges, with their
 * indexes and constraints dropped on DST and built again, several at once,
 * once the data is in; the large objects come along.  A subscription then
 * created on that slot with copy_data = false streams exactly the changes
 * the snapshot did not see (create-sub --copy fast does it all).
 * A run that stops is taken up again by the next one, from the state in
 * data/copy-state.json, which --status (and copy-progress) show.
 * This file holds the options and the order of the steps.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "copy.h"
#include "output.h"
#include "pg.h"
#include "sql.h"
#include "util.h"

static void
copy_help(void)
{
	printf("Usage: migkit copy [OPTION]...\n"
		   "       migkit copy --status [--watch SEC] [--json]\n\n"
		   "Creates the replication slot of the subscription on SRC with an exported\n"
		   "snapshot, copies every table of the migration inside that snapshot over several\n"
		   "connections per side (large tables in ranges, COPY streamed from SRC into DST),\n"
		   "copies the large objects, and builds DST's indexes and constraints after the\n"
		   "data, several at once.  Then a subscription created on the slot with\n"
		   "create_slot = false, copy_data = false streams what the snapshot did not see.\n"
		   "Run again after an interruption, it skips the tables it copied and copies the\n"
		   "others again, as long as the snapshot is held (--hold).\n\n"
		   "Options:\n"
		   "  -j, --jobs N            connections per side working at once (default 4)\n"
		   "      --split-size BYTES  copy a table larger than this in ranges of about this\n"
		   "                          size (default 128MB; kB, MB, GB allowed)\n"
		   "      --maintenance-work-mem BYTES\n"
		   "                          maintenance_work_mem of the index builds (default 512MB)\n"
		   "      --hold SEC          keep the snapshot this long after a run stops, for a\n"
		   "                          rerun to go on with it (default 1800)\n"
		   "      --slot NAME         the slot to create (default: $SUBNAME)\n"
		   "      --state FILE        the state file (default: $DIRPATH/data/copy-state.json)\n"
		   "      --restart           a new slot and snapshot (the old slot is dropped), every\n"
		   "                          table emptied on DST and copied again\n"
		   "      --status            show the state of the copy (what is copied, bytes, rows,\n"
		   "                          ETA) and exit: 0 done, 1 not yet\n"
		   "      --watch SEC         with --status: show it again every SEC seconds until\n"
		   "                          the copy is done or stops\n"
		   "      --json              print the state as JSON\n"
		   "      --src CONNINFO      SRC connection (default: $SRCPG)\n"
		   "      --dst CONNINFO      DST connection (default: $DSTPG)\n"
		   "  -h, --help              show this help and exit\n"
		   "  -V, --version           show the version and exit\n\n"
		   "The tables are the migration's set (MIGKIT_INCLUDE, MIGKIT_EXCLUDE), and\n"
		   "migkit.heartbeat when both sides have it.  DST's tables must be empty at the\n"
		   "first run.\n\n"
		   "Exit status: 0 done (--status: the copy is done), 1 --status: not done yet,\n"
		   "2 error (usage, connection, SQL, a snapshot that is gone).\n");
}

static bool
parse_options(int argc, char **argv, copy_options *opt)
{
	enum {
		OPT_SPLIT = 256,
		OPT_MWM,
		OPT_HOLD,
		OPT_SLOT,
		OPT_STATE,
		OPT_RESTART,
		OPT_STATUS,
		OPT_WATCH,
		OPT_JSON,
		OPT_SRC,
		OPT_DST
	};
	static const struct option longopts[] = {
		{"jobs", required_argument, NULL, 'j'},
		{"split-size", required_argument, NULL, OPT_SPLIT},
		{"maintenance-work-mem", required_argument, NULL, OPT_MWM},
		{"hold", required_argument, NULL, OPT_HOLD},
		{"slot", required_argument, NULL, OPT_SLOT},
		{"state", required_argument, NULL, OPT_STATE},
		{"restart", no_argument, NULL, OPT_RESTART},
		{"status", no_argument, NULL, OPT_STATUS},
		{"watch", required_argument, NULL, OPT_WATCH},
		{"json", no_argument, NULL, OPT_JSON},
		{"src", required_argument, NULL, OPT_SRC},
		{"dst", required_argument, NULL, OPT_DST},
		{NULL, 0, NULL, 0},
	};
	static char mwm[32];
	long long bytes;
	long n;
	int c;

	while ((c = cli_getopt(argc, argv, "j:", longopts)) != -1) {
		switch (c) {
			case 'j':
				if (!parse_long(optarg, &n) || n < 1 || n > COPY_MAX_JOBS) {
					cli_usage("--jobs must be a whole number from 1 to %d, not \"%s\"", COPY_MAX_JOBS,
							  optarg);
					return false;
				}
				opt->jobs = (int) n;
				break;
			case OPT_SPLIT:
				if (!parse_bytes(optarg, &bytes) || bytes < 8192) {
					cli_usage("--split-size must be a size of at least 8kB (kB, MB, GB allowed), not \"%s\"",
							  optarg);
					return false;
				}
				opt->split_bytes = bytes;
				break;
			case OPT_MWM:
				if (!parse_bytes(optarg, &bytes) || bytes < 1024 * 1024 || bytes > (1LL << 40)) {
					cli_usage("--maintenance-work-mem must be a size from 1MB to 1TB, not \"%s\"", optarg);
					return false;
				}
				snprintf(mwm, sizeof(mwm), "%lldkB", bytes / 1024);
				opt->work_mem = mwm;
				break;
			case OPT_HOLD:
				if (!parse_seconds(optarg, &opt->hold)) {
					cli_usage("--hold must be a number of seconds above 0, not \"%s\"", optarg);
					return false;
				}
				break;
			case OPT_WATCH:
				if (!parse_seconds(optarg, &opt->watch)) {
					cli_usage("--watch must be a number of seconds above 0, not \"%s\"", optarg);
					return false;
				}
				break;
			case OPT_SLOT: opt->slot = optarg; break;
			case OPT_STATE: opt->state_path = optarg; break;
			case OPT_RESTART: opt->restart = true; break;
			case OPT_STATUS: opt->status = true; break;
			case OPT_JSON: opt->json = true; break;
			case OPT_SRC: opt->conninfo[0] = optarg; break;
			case OPT_DST: opt->conninfo[1] = optarg; break;
			default: cli_usage(NULL); return false;
		}
	}
	if (optind < argc) {
		cli_usage("unexpected argument \"%s\"", argv[optind]);
		return false;
	}
	if (opt->watch > 0 && !opt->status) {
		cli_usage("--watch goes with --status");
		return false;
	}
	if (opt->status && opt->restart) {
		cli_usage("--status and --restart exclude each other: give one");
		return false;
	}
	return true;
}

/* The state file's path: --state, else the kit's data/copy-state.json. */
static char *
state_path(const copy_options *opt)
{
	const char *dir = getenv("DIRPATH");

	if (opt->state_path && *opt->state_path)
		return xstrdup(opt->state_path);
	if (dir == NULL || *dir == '\0') {
		cli_usage("no state file: give --state FILE or source the kit's activate (it exports DIRPATH)");
		return NULL;
	}
	return xasprintf("%s/data/copy-state.json", dir);
}

/* --json: the state file as it is. */
static void
print_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[8192];
	size_t n;

	if (f == NULL) {
		log_error("cannot read %s: %s", path, strerror(errno));
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
}

/* --status: the state file as it is now, once or until the copy ends. */
static result_t
copy_status(const copy_options *opt, const char *path)
{
	for (;;) {
		copy_state *st;
		bool done, running;

		if (!copy_state_exists(path)) {
			log_error("no fast copy was started here (%s does not exist): create-sub --copy fast starts one",
					  path);
			return RESULT_ERROR;
		}
		if ((st = copy_state_read(path)) == NULL)
			return RESULT_ERROR;
		done = strcmp(st->phase, "done") == 0;
		if (st->runner && !copy_process_alive(st->runner))
			st->runner = 0;
		running = st->runner != 0;
		if (opt->json)
			print_file(path);
		else {
			if (opt->watch > 0 && out_is_tty(stdout))
				fputs("\033[H\033[2J", stdout);
			copy_state_print(st, stdout);
		}
		fflush(stdout);
		copy_state_free(st);
		if (done)
			return RESULT_OK;
		if (opt->watch <= 0 || !running)
			return RESULT_NEGATIVE;
		if (pg_poll(NULL, 0, opt->watch) < 0)
			return RESULT_ERROR;
		if (!opt->json)
			fputc('\n', stdout);
	}
}

/* One copy of a kit at a time: the lock beside the state file, held for the run. */
static int
take_lock(const char *lock_path)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), i;

	if (fd < 0) {
		log_error("cannot open %s: %s", lock_path, strerror(errno));
		return -1;
	}
	/* The holder of a snapshot tries it for an instant each second: a few tries. */
	for (i = 0; i < 40; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		usleep(50000);
	}
	log_error("another migkit copy is running on %s (see migkit copy --status)", lock_path);
	close(fd);
	return -1;
}

/*
 * Before anything changes: SRC and DST are two databases, and the slot is
 * what the state says: absent before a first run (or dropped now for
 * --restart), present when a run goes on.
 */
static bool
check_sides(const copy_options *opt, copy_state *st, bool new_slot)
{
	static const char slot_sql[] = "select active from pg_catalog.pg_replication_slots where slot_name = $1";
	PGconn *src = pg_connect("SRC", opt->conninfo[0]),
		   *dst = src ? pg_connect("DST", opt->conninfo[1]) : NULL;
	const char *params[1] = {opt->slot};
	PGresult *res = NULL;
	bool ok = false;

	if (src == NULL || dst == NULL ||
		!sql_distinct_sides(src, dst, "copy a database into itself", NULL, NULL) ||
		(res = pg_query(src, "SRC", slot_sql, 1, params)) == NULL)
		goto out;
	if (PQserverVersion(src) < 110000) {
		log_error("SRC runs PostgreSQL %d: migkit copy needs 11 or later", PQserverVersion(src) / 10000);
		goto out;
	}
	if (new_slot && PQntuples(res) > 0) {
		if (pg_bool(res, 0, 0)) {
			log_error("replication slot %s on SRC is in use: stop what uses it, or give another --slot",
					  opt->slot);
			goto out;
		}
		if (!opt->restart) {
			log_error(
				"replication slot %s already exists on SRC, and no copy state names it (%s): when nothing "
				"needs it, drop it (on SRC: select pg_catalog.pg_drop_replication_slot('%s')), or run with "
				"--restart",
				opt->slot, st ? st->path : "none", opt->slot);
			goto out;
		}
		if (!pg_exec(src, "SRC", "select pg_catalog.pg_drop_replication_slot($1)", 1, params))
			goto out;
		log_info("dropped the replication slot %s of the earlier copy on SRC", opt->slot);
	} else if (!new_slot && PQntuples(res) == 0) {
		log_error(
			"replication slot %s, which the copy reads from, is gone from SRC: start over with --restart "
			"(create-sub --copy fast --restart)",
			opt->slot);
		goto out;
	}
	ok = true;
out:
	PQclear(res);
	pg_finish(dst);
	pg_finish(src);
	return ok;
}

/* --restart: the deferred list is kept (they are dropped again), everything else starts over. */
static void
reset_state(copy_state *st)
{
	int i;

	copy_snapshot_release(st);
	for (i = 0; i < st->ntables; i++) {
		free(st->tables[i]->name);
		free(st->tables[i]->columns);
		free(st->tables[i]);
	}
	st->ntables = 0;
	for (i = 0; i < st->ndeferred; i++)
		st->deferred[i]->done = false;
	st->deferred_dropped = false;
	st->los = -1;
	st->los_done = false;
	free(st->lsn);
	st->lsn = NULL;
	free(st->phase);
	st->phase = xstrdup("copy");
	st->elapsed = 0;
}

static void
say_gone(const copy_state *st)
{
	int i, left = 0;

	for (i = 0; i < st->ntables; i++)
		left += !st->tables[i]->done;
	log_error(
		"the snapshot of slot %s is gone (the connection that held it closed: SRC restarted, or no copy ran "
		"for --hold seconds), and %d table(s)%s are not copied yet: they cannot be copied consistently with "
		"that slot any more; start over with create-sub --copy fast --restart (migkit copy --restart: a new "
		"slot, every table copied again), or drop the slot and DST's database and use create-sub --copy native",
		st->slot, left, st->los_done ? "" : " or the large objects");
}

static void
say_done(const copy_state *st)
{
	long long bytes = 0, rows = 0;
	char b1[32], b2[32];
	int i;

	for (i = 0; i < st->ntables; i++) {
		bytes += st->tables[i]->bytes;
		rows += st->tables[i]->rows;
	}
	printf("copied %d table(s), %lld rows, %s of COPY data; %lld large object(s); built %d index(es) and "
		   "constraint(s); %s in all\n",
		   st->ntables, rows, format_bytes((double) bytes, b1, sizeof(b1)), st->los > 0 ? st->los : 0,
		   st->ndeferred, format_duration(st->elapsed, b2, sizeof(b2)));
	printf("slot %s on SRC starts at %s: create the subscription with slot_name = '%s', create_slot = false, "
		   "copy_data = false\n",
		   st->slot, st->lsn ? st->lsn : "?", st->slot);
}

/*
 * The steps of a run that has its slot and snapshot (or needs them no
 * more).  DST's tables are found empty before anything is dropped there;
 * on a later run the tables not done are emptied, once the foreign keys
 * that would stop TRUNCATE are gone.
 */
static bool
run_steps(const copy_options *opt, copy_state *st)
{
	bool need_src = !copy_state_data_done(st), gone = false, truncate = st->dst_checked, ok;
	copy_pool pool;
	copy_plan plan;

	memset(&plan, 0, sizeof(plan));
	if (!copy_pool_open(&pool, opt, st, need_src, &gone)) {
		if (gone)
			say_gone(st);
		copy_pool_close(&pool);
		return false;
	}
	ok = true;
	if (need_src) {
		ok = copy_plan_tables(pool.src[0], pool.dst[0], st, opt, &plan);
		if (ok && !st->dst_checked)
			ok = st->dst_checked = copy_plan_check_empty(pool.dst[0], st);
		if (ok && st->ndeferred == 0 && !st->deferred_dropped)
			ok = copy_plan_deferred(pool.dst[0], st);
		if (ok)
			ok = copy_state_write(st, st->path);
	}
	/* What is not built yet is dropped, on a later run too: a build that committed as the run stopped goes
	 * again. */
	if (ok)
		ok = st->deferred_dropped = copy_drop_deferred(pool.dst[0], st);
	if (need_src) {
		if (ok && truncate)
			ok = copy_plan_truncate(pool.dst[0], st);
		if (ok)
			ok = copy_state_write(st, st->path);
		if (ok && !st->los_done)
			ok = copy_large_objects(pool.src[0], pool.dst[0], st);
	}
	if (ok)
		ok = copy_run(&pool, &plan, st, opt);
	copy_pool_close(&pool);
	copy_plan_free(&plan);
	return ok;
}

static result_t
copy_main(const copy_options *opt, const char *path)
{
	char *lock_path = xasprintf("%s.lock", path);
	copy_state *st = NULL;
	bool new_slot, ok;
	int lock;
	int i;

	if ((lock = take_lock(lock_path)) < 0) {
		free(lock_path);
		return RESULT_ERROR;
	}
	if (copy_state_exists(path) && (st = copy_state_read(path)) == NULL)
		goto fail;
	if (st && strcmp(st->slot, opt->slot) != 0) {
		log_error("%s is the copy into slot %s, not %s: give --slot %s, or another --state", path, st->slot,
				  opt->slot, st->slot);
		goto fail;
	}
	if (st)
		st->path = path;
	if (st && opt->restart)
		reset_state(st);
	new_slot = st == NULL || st->lsn == NULL;
	/* Also when the copy is done: the subscription is still to stream from its slot. */
	if (!check_sides(opt, st, new_slot))
		goto fail;
	if (st && strcmp(st->phase, "done") == 0) {
		printf("the copy into slot %s is done already (%s)\n", st->slot, path);
		copy_state_free(st);
		close(lock);
		free(lock_path);
		return RESULT_OK;
	}
	if (st == NULL) {
		st = copy_state_new(opt->slot);
		st->path = path;
	}
	if (new_slot) {
		if (!copy_snapshot_create(opt, lock_path, st))
			goto fail;
		if (!copy_state_write(st, path))
			goto fail;
		log_info("slot %s created on SRC at %s; copying inside its snapshot %s", st->slot, st->lsn,
				 st->snapshot);
	} else if (!copy_state_data_done(st) && !copy_snapshot_held(st)) {
		say_gone(st);
		goto fail;
	}

	pg_catch_interrupts();
	st->runner = (long) getpid();
	st->run_started = now_seconds();
	st->elapsed_before = st->elapsed;
	for (i = 0; i < st->ntables; i++)
		if (!st->tables[i]->done) {
			st->tables[i]->bytes = st->tables[i]->rows = 0;
			st->tables[i]->chunks_done = 0;
			st->tables[i]->seconds = 0;
			st->tables[i]->copying = false;
		}
	ok = run_steps(opt, st);
	st->runner = 0;
	if (ok) {
		free(st->phase);
		st->phase = xstrdup("done");
	}
	if (!copy_state_write(st, path))
		ok = false;
	if (ok) {
		if (opt->json)
			print_file(path);
		else
			say_done(st);
	} else if (copy_snapshot_held(st) || copy_state_data_done(st))
		log_error("the copy stopped; run it again to go on: it skips what is done%s",
				  copy_state_data_done(st) ? "" : " (the snapshot is held for --hold seconds)");
	copy_state_free(st);
	close(lock);
	free(lock_path);
	return ok ? RESULT_OK : RESULT_ERROR;
fail:
	copy_state_free(st);
	close(lock);
	free(lock_path);
	return RESULT_ERROR;
}

result_t
cmd_copy(int argc, char **argv)
{
	copy_options opt;
	char *path;
	result_t r;
	int s;

	if (cli_help_or_version(argc, argv, copy_help))
		return RESULT_OK;
	memset(&opt, 0, sizeof(opt));
	opt.jobs = 4;
	opt.split_bytes = 128LL * 1024 * 1024;
	opt.work_mem = "512MB";
	opt.hold = 1800;
	if (!parse_options(argc, argv, &opt))
		return RESULT_ERROR;
	if ((path = state_path(&opt)) == NULL)
		return RESULT_ERROR;
	if (opt.status) {
		pg_catch_interrupts();
		r = copy_status(&opt, path);
		free(path);
		return r;
	}
	if (opt.slot == NULL || *opt.slot == '\0')
		opt.slot = getenv("SUBNAME");
	if (opt.slot == NULL || *opt.slot == '\0') {
		free(path);
		return cli_usage("no slot name: give --slot NAME or source the kit's activate (it exports SUBNAME)");
	}
	for (s = 0; s < 2; s++)
		if ((opt.conninfo[s] = pg_conninfo(s ? "DST" : "SRC", opt.conninfo[s])) == NULL) {
			free(path);
			return RESULT_ERROR;
		}
	r = copy_main(&opt, path);
	free(path);
	return r;
}
