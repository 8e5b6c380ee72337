/*
 * migkit progress (the kit's copy-progress): how far the initial copy of a
 * subscription has come and how far DST lags behind SRC.  This file holds
 * the options and the refresh loop; a refresh is progress_query.c, its
 * meaning progress_verdict.c, its forms progress_report.c.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "pg.h"
#include "progress.h"
#include "sql.h"
#include "util.h"

#define DEFAULT_INTERVAL 2.0
#define DEFAULT_MAX_LAG  (1024LL * 1024)

static void
progress_help(void)
{
	printf("Usage: migkit progress [OPTION]...\n\n"
		   "Shows, for the subscription SUBNAME on DST, each table's sync state (waiting,\n"
		   "copying, synced, streaming, or not replicated for a table of the migration the\n"
		   "subscription lacks), its size on SRC and the bytes copied so far, the totals\n"
		   "with throughput and ETA, the replication lag in bytes (SRC's WAL position to\n"
		   "what DST has applied) and in seconds, and the slot's state and WAL retained on\n"
		   "SRC.  At most two statements per side per refresh.\n\n"
		   "Options:\n"
		   "      --watch [SEC]          refresh every SEC seconds (default 2) until Ctrl-C:\n"
		   "                             redrawn in place on a terminal, a line per refresh otherwise\n"
		   "      --wait                 return 0 once every table streams and the lag is within\n"
		   "                             the limits, then print the report (a line on stderr\n"
		   "                             whenever tables change state meanwhile)\n"
		   "      --timeout SEC          with --wait or --watch: stop after SEC seconds (exit 1\n"
		   "                             unless in sync)\n"
		   "      --interval SEC         seconds between refreshes for --wait (default 2)\n"
		   "      --max-lag BYTES        the lag in bytes counted as caught up (default\n"
		   "                             MIGKIT_LAG_MAX_BYTES, else 1MB; units kB, MB, GB allowed)\n"
		   "      --max-lag-seconds SEC  the lag in seconds counted as caught up (default\n"
		   "                             MIGKIT_LAG_MAX_SECONDS, else no limit)\n"
		   "      --wal-budget BYTES     the WAL the slot may keep on SRC (default\n"
		   "                             MIGKIT_WAL_BUDGET_BYTES, else none): a warning from\n"
		   "                             80%%, and --wait gives up past it\n"
		   "      --json                 one JSON document (one per refresh under --watch)\n"
		   "      --prometheus           the Prometheus text format, for node_exporter's textfile\n"
		   "                             collector\n"
		   "      --samples FILE         append each refresh to FILE as one line of JSON (time,\n"
		   "                             states, bytes, lag), as the kit keeps data/progress.jsonl\n"
		   "      --src CONNINFO         SRC connection (default: $SRCPG)\n"
		   "      --dst CONNINFO         DST connection (default: $DSTPG)\n"
		   "      --sub NAME             the subscription on DST (default: $SUBNAME)\n"
		   "  -h, --help                 show this help and exit\n"
		   "  -V, --version              show the version and exit\n\n"
		   "MIGKIT_HEARTBEAT=true updates migkit.heartbeat on SRC (its only write) and reads\n"
		   "it on DST for the end-to-end lag in seconds; otherwise the seconds are an\n"
		   "estimate from pg_stat_subscription.  The migration's tables are those of\n"
		   "MIGKIT_INCLUDE and MIGKIT_EXCLUDE.\n\n"
		   "--wait and --watch outlast a server that restarts or a network that drops:\n"
		   "they say which side is unreachable and reconnect every interval.  --wait gives\n"
		   "up (exit 1) when the slot is lost, or about to be: past 95%% of\n"
		   "max_slot_wal_keep_size, wal_status unreserved, or past the WAL budget.\n\n"
		   "Exit status: 0 in sync, 1 not yet (or --timeout reached, or the slot in\n"
		   "danger), 2 error (also when the subscription does not exist, when a side was\n"
		   "still unreachable at --timeout, or when interrupted during a query).\n");
}

static bool
env_true(const char *name)
{
	const char *v = getenv(name);

	return v && (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0 ||
				 strcmp(v, "1") == 0);
}

/* Accepts the optional SEC of --watch given as the next word: --watch 5. */
static bool
take_watch_seconds(int argc, char **argv, progress_options *o)
{
	double v;

	if (optarg) {
		if (!parse_seconds(optarg, &v)) {
			cli_usage("--watch takes a number of seconds > 0, not \"%s\"", optarg);
			return false;
		}
		o->interval = v;
	} else if (optind < argc && parse_seconds(argv[optind], &v)) {
		o->interval = v;
		optind++;
	}
	return true;
}

/* The options, then the defaults the kit's environment gives; false after a usage error. */
static bool
parse_options(int argc, char **argv, progress_options *o)
{
	enum {
		OPT_WATCH = 256,
		OPT_WAIT,
		OPT_TIMEOUT,
		OPT_INTERVAL,
		OPT_MAX_LAG,
		OPT_MAX_LAG_SECONDS,
		OPT_WAL_BUDGET,
		OPT_JSON,
		OPT_PROMETHEUS,
		OPT_SRC,
		OPT_DST,
		OPT_SUB,
		OPT_SAMPLES
	};
	static const struct option long_options[] = {
		{"watch", optional_argument, NULL, OPT_WATCH},
		{"wait", no_argument, NULL, OPT_WAIT},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"max-lag", required_argument, NULL, OPT_MAX_LAG},
		{"max-lag-seconds", required_argument, NULL, OPT_MAX_LAG_SECONDS},
		{"wal-budget", required_argument, NULL, OPT_WAL_BUDGET},
		{"json", no_argument, NULL, OPT_JSON},
		{"prometheus", no_argument, NULL, OPT_PROMETHEUS},
		{"src", required_argument, NULL, OPT_SRC},
		{"dst", required_argument, NULL, OPT_DST},
		{"sub", required_argument, NULL, OPT_SUB},
		{"samples", required_argument, NULL, OPT_SAMPLES},
		{NULL, 0, NULL, 0},
	};
	bool watch_interval = false, max_lag_given = false, max_secs_given = false, budget_given = false;
	double interval = 0;
	const char *env;
	int c;

	memset(o, 0, sizeof(*o));
	o->interval = DEFAULT_INTERVAL;
	o->max_lag = DEFAULT_MAX_LAG;
	/* "+": stop at the first non-option, so --watch may take the next word. */
	while ((c = cli_getopt(argc, argv, "+", long_options)) != -1) {
		switch (c) {
			case OPT_WATCH:
				o->watch = true;
				o->interval = 0;
				if (!take_watch_seconds(argc, argv, o))
					return false;
				watch_interval = o->interval > 0;
				break;
			case OPT_WAIT: o->wait = true; break;
			case OPT_TIMEOUT:
				if (!parse_seconds(optarg, &o->timeout)) {
					cli_usage("--timeout takes a number of seconds > 0, not \"%s\"", optarg);
					return false;
				}
				break;
			case OPT_INTERVAL:
				if (!parse_seconds(optarg, &interval)) {
					cli_usage("--interval takes a number of seconds > 0, not \"%s\"", optarg);
					return false;
				}
				break;
			case OPT_MAX_LAG:
				if (!parse_bytes(optarg, &o->max_lag)) {
					cli_usage("--max-lag takes a number of bytes (units kB, MB, GB allowed), not \"%s\"",
							  optarg);
					return false;
				}
				max_lag_given = true;
				break;
			case OPT_MAX_LAG_SECONDS:
				if (!parse_seconds(optarg, &o->max_lag_seconds)) {
					cli_usage("--max-lag-seconds takes a number of seconds > 0, not \"%s\"", optarg);
					return false;
				}
				max_secs_given = true;
				break;
			case OPT_WAL_BUDGET:
				if (!parse_bytes(optarg, &o->wal_budget)) {
					cli_usage("--wal-budget takes a number of bytes (units kB, MB, GB allowed), not \"%s\"",
							  optarg);
					return false;
				}
				budget_given = true;
				break;
			case OPT_JSON: o->json = true; break;
			case OPT_PROMETHEUS: o->prometheus = true; break;
			case OPT_SRC: o->src = optarg; break;
			case OPT_DST: o->dst = optarg; break;
			case OPT_SUB: o->sub = optarg; break;
			case OPT_SAMPLES: o->samples = optarg; break;
			default: cli_usage(NULL); return false;
		}
	}
	if (optind < argc) {
		cli_usage("unexpected argument \"%s\"", argv[optind]);
		return false;
	}
	if (o->json && o->prometheus) {
		cli_usage("--json and --prometheus exclude each other");
		return false;
	}
	if (o->watch && o->prometheus) {
		cli_usage(
			"--prometheus prints once: run it from a timer for the textfile collector, without --watch");
		return false;
	}
	if (o->timeout > 0 && !o->wait && !o->watch) {
		cli_usage("--timeout needs --wait or --watch");
		return false;
	}
	if (!watch_interval)
		o->interval = interval > 0 ? interval : DEFAULT_INTERVAL;
	o->heartbeat = env_true("MIGKIT_HEARTBEAT");
	env = getenv("MIGKIT_LAG_MAX_BYTES");
	if (!max_lag_given && env && *env && !parse_bytes(env, &o->max_lag)) {
		log_error("MIGKIT_LAG_MAX_BYTES is not a number of bytes: \"%s\"", env);
		return false;
	}
	env = getenv("MIGKIT_WAL_BUDGET_BYTES");
	if (!budget_given && env && *env && !parse_bytes(env, &o->wal_budget)) {
		log_error("MIGKIT_WAL_BUDGET_BYTES is not a number of bytes: \"%s\"", env);
		return false;
	}
	env = getenv("MIGKIT_LAG_MAX_SECONDS");
	if (!max_secs_given && env && *env && !parse_seconds(env, &o->max_lag_seconds)) {
		log_error("MIGKIT_LAG_MAX_SECONDS is not a number of seconds > 0: \"%s\"", env);
		return false;
	}
	return true;
}

/* Logs the one-line summary on stderr when the state counts changed (--wait). */
static void
log_wait_progress(const snapshot *s, int *last_counts)
{
	char line[1024];

	if (memcmp(last_counts, s->count, sizeof(s->count)) == 0)
		return;
	memcpy(last_counts, s->count, sizeof(s->count));
	progress_summary_line(line, sizeof(line), s);
	log_info("%s", line);
}

/* The sides whose connection is gone, as "SRC", "DST" or "SRC and DST"; NULL when both are up. */
static const char *
sides_lost(PGconn *src, PGconn *dst)
{
	bool s = src == NULL || PQstatus(src) != CONNECTION_OK, d = dst == NULL || PQstatus(dst) != CONNECTION_OK;

	return s && d ? "SRC and DST" : s ? "SRC" : d ? "DST" : NULL;
}

/* Connects again each side whose connection is gone; true once both are up. */
static bool
reconnect(PGconn **conn, const char *side, const char *conninfo)
{
	if (*conn && PQstatus(*conn) == CONNECTION_OK)
		return true;
	pg_finish(*conn);
	*conn = pg_connect(side, conninfo);
	return *conn != NULL;
}

/*
 * The refresh loop: once, or under --watch or --wait until done, the
 * timeout or Ctrl-C.  Under --watch and --wait a connection lost (a
 * server restarted, the network cut) is a state to report, not the end:
 * the loop says which side is unreachable and connects again every
 * interval, and never reports "in sync" meanwhile.
 */
static result_t
progress_loop(PGconn **src, PGconn **dst, const progress_options *o)
{
	bool have = false, tty_frame, error = false, timed_out = false, stopped = false;
	const char *lost = NULL;
	snapshot s;
	history h = {0};
	double deadline = 0;
	int last_counts[NSTATES];
	result_t result = RESULT_ERROR;
	char run[64];
	bool keep_samples = o->samples != NULL;

	tty_frame = o->watch && !o->json && out_is_tty(stdout);
	if (tty_frame)
		fputs("\033[?25l\033[2J", stdout); /* hide the cursor, clear */
	memset(last_counts, -1, sizeof(last_counts));
	memset(&s, 0, sizeof(s));
	if (o->timeout > 0)
		deadline = now_seconds() + o->timeout;
	format_timestamp(wall_seconds(), run, sizeof(run));

	for (;;) {
		snapshot next;

		if (lost) {
			bool up = reconnect(dst, "DST", o->dst);

			if (reconnect(src, "SRC", o->src) && up) {
				log_info("%s reachable again", lost);
				lost = NULL;
			}
		}
		if (lost == NULL && !progress_snapshot(*src, *dst, o, &next)) {
			snapshot_free(&next);
			lost = sides_lost(*src, *dst);
			if (!(o->wait || o->watch) || pg_interrupted() || lost == NULL) {
				error = true;
				break;
			}
			log_info("not in sync: lost the connection to %s; connecting again every %gs", lost, o->interval);
			memset(last_counts, -1, sizeof(last_counts));
		} else if (lost == NULL) {
			progress_evaluate(&next, o, &h);
			snapshot_free(&s);
			s = next;
			have = true;
			h.have = true;
			h.copied = s.total_copied;
			h.mono = s.mono;
			/* After one failure to append, the others are not tried (one warning). */
			if (keep_samples)
				keep_samples = progress_append_sample(o->samples, run, &s, o);

			if (o->watch) {
				if (o->json)
					progress_print_json(stdout, &s, o);
				else if (tty_frame)
					progress_frame(&s, o);
				else {
					char line[1024];

					progress_summary_line(line, sizeof(line), &s);
					printf("%s\n", line);
					fflush(stdout);
				}
			} else if (o->wait)
				log_wait_progress(&s, last_counts);
			else
				break;
			if (o->wait && s.in_sync)
				break;
			if (o->wait && s.stop_wait) {
				stopped = true;
				break;
			}
		}
		if (deadline > 0 && now_seconds() >= deadline) {
			timed_out = true;
			break;
		}
		/* The pause: Ctrl-C here ends the loop with the last refresh's answer. */
		if (pg_poll(NULL, 0, deadline > 0 ? fmin(o->interval, deadline - now_seconds()) : o->interval) < 0)
			break;
	}

	if (tty_frame)
		fputs("\033[?25h", stdout); /* the cursor back */
	if (lost) {
		log_error("gave up: %s %s still unreachable", lost, strchr(lost, ' ') ? "are" : "is");
		error = true;
	}
	if (!error && have) {
		if (!o->watch)
			progress_print(&s, o);
		else if (tty_frame && !s.in_sync && s.nwhy > 0)
			log_info("not yet in sync: %s", s.why[0]);
		if (stopped)
			log_info("stopped waiting: %s", s.stop_wait);
		else if (timed_out && o->wait)
			log_info("timed out after %gs: not yet in sync", o->timeout);
		result = s.in_sync ? RESULT_OK : RESULT_NEGATIVE;
	}
	fflush(stdout);
	snapshot_free(&s);
	return result;
}

result_t
cmd_progress(int argc, char **argv)
{
	progress_options o;
	PGconn *src = NULL, *dst = NULL;
	result_t result = RESULT_ERROR;

	if (cli_help_or_version(argc, argv, progress_help))
		return RESULT_OK;
	if (!parse_options(argc, argv, &o))
		return RESULT_ERROR;
	if (o.sub == NULL || *o.sub == '\0')
		o.sub = getenv("SUBNAME");
	if (o.sub == NULL || *o.sub == '\0') {
		log_error("no subscription name: give --sub or source the kit's activate (it exports SUBNAME)");
		return RESULT_ERROR;
	}
	o.src = pg_conninfo("SRC", o.src);
	o.dst = pg_conninfo("DST", o.dst);
	if (o.src == NULL || o.dst == NULL)
		return RESULT_ERROR;

	pg_catch_interrupts();
	dst = pg_connect("DST", o.dst);
	src = dst ? pg_connect("SRC", o.src) : NULL;
	o.sub_sql = src && sql_distinct_sides(src, dst, "follow a database replicating into itself", NULL, NULL)
					? pg_quote_ident(dst, o.sub)
					: NULL;
	if (o.sub_sql)
		result = progress_loop(&src, &dst, &o);
	free(o.sub_sql);
	pg_finish(src);
	pg_finish(dst);
	return result;
}
