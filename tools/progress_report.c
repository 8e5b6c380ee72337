/*
 * The forms of a migkit progress refresh for people: the report (aligned
 * text, progress bars on a terminal), the frame --watch redraws and the
 * line --watch appends without a terminal; and which form a refresh is
 * printed in.  The forms for programs, JSON and the Prometheus text
 * format, are progress_export.c's.  Names from the catalog are escaped
 * for the reader they go to.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "progress.h"
#include "util.h"

#define BAR_WIDTH     20 /* the total's bar */
#define ROW_BAR_WIDTH 12 /* each table's */

/* [#######.............] for a fraction 0..1. */
static void
format_bar(char *buf, size_t size, double fraction, int width)
{
	int fill, i, n = 0;

	if (isnan(fraction))
		fraction = 0;
	fraction = fmin(1, fmax(0, fraction));
	fill = (int) (fraction * width + 0.5);
	if (fill == width && fraction < 1)
		fill--;
	if ((size_t) width + 3 > size)
		width = (int) size - 3;
	buf[n++] = '[';
	for (i = 0; i < width; i++)
		buf[n++] = i < fill ? '#' : '.';
	buf[n++] = ']';
	buf[n] = '\0';
}

static const char *
size_or_dash(double v, char *buf, size_t size)
{
	if (isnan(v))
		return "-";
	return format_bytes(v, buf, size);
}

/* The lag as "1.2 kB, 300 ms" ("~300 ms" for an estimate; bytes only when the seconds are unknown). */
static void
append_lag(strbuf *sb, const snapshot *s)
{
	char a[32];

	sb_append(sb, size_or_dash(s->lag_bytes, a, sizeof(a)));
	if (!isnan(s->lag_seconds))
		sb_printf(sb, ", %s%s", strcmp(s->lag_seconds_source, "estimate") == 0 ? "~" : "",
				  format_seconds(s->lag_seconds, a, sizeof(a)));
}

/* One line for a refresh: what --watch appends when stdout is no terminal. */
static void
summary_line(strbuf *sb, const snapshot *s)
{
	char a[32], b[32], ts[32];

	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&s->wall));
	sb_printf(sb, "%s  %d/%d streaming", ts, s->count[STATE_STREAMING], s->ntables);
	if (s->count[STATE_COPYING])
		sb_printf(sb, ", %d copying", s->count[STATE_COPYING]);
	if (s->count[STATE_SYNCED])
		sb_printf(sb, ", %d synced", s->count[STATE_SYNCED]);
	if (s->count[STATE_WAITING])
		sb_printf(sb, ", %d waiting", s->count[STATE_WAITING]);
	sb_printf(sb, "  copied %s of %s (%.0f%%)", format_bytes(s->total_copied, a, sizeof(a)),
			  format_bytes(s->total_size, b, sizeof(b)), progress_total_percent(s));
	if (!isnan(s->throughput))
		sb_printf(sb, "  %s/s", format_bytes(s->throughput, a, sizeof(a)));
	if (!isnan(s->eta) && s->eta > 0)
		sb_printf(sb, "  ETA %s", format_duration(s->eta, a, sizeof(a)));
	sb_append(sb, "  lag ");
	append_lag(sb, s);
	if (s->in_sync)
		sb_append(sb, "  in sync");
	else
		sb_printf(sb, "  not in sync: %s", s->nwhy ? s->why[0] : "?");
}

/* How --watch orders tables when not all fit: the unfinished first. */
static int
display_rank(sync_state st)
{
	switch (st) {
		case STATE_COPYING: return 0;
		case STATE_SYNCED: return 1;
		case STATE_WAITING: return 2;
		case STATE_UNKNOWN: return 3;
		default: return 4;
	}
}

static const snapshot *sort_snapshot;

static int
compare_rows(const void *a, const void *b)
{
	const table_row *x = &sort_snapshot->tables[*(const int *) a];
	const table_row *y = &sort_snapshot->tables[*(const int *) b];
	int r = display_rank(x->state) - display_rank(y->state);

	return r != 0 ? r : *(const int *) a - *(const int *) b;
}

/*
 * The human report.  max_rows < 0 prints every table in name order;
 * otherwise the unfinished tables first, and a line for the rest.  Colour
 * comes from `color`, not from `out` (which may be a memory stream).
 */
static void
render_text(FILE *out, const snapshot *s, const progress_options *o, bool bars, bool color, int max_rows)
{
	static const char *const headers[] = {"table", "state", "size", "copied", "done", "progress"};
	const char *bold = color ? out_style(stdout, "bold") : "";
	const char *reset = color ? out_style(stdout, "reset") : "";
	const char *yellow = color ? out_style(stdout, "yellow") : "";
	const char *green = color ? out_style(stdout, "green") : "";
	const char *red = color ? out_style(stdout, "red") : "";
	char a[32], b[32], c[32], pct[16], bar[BAR_WIDTH + 3];
	int *order = xcalloc((size_t) s->ntables + 1, sizeof(int));
	int shown, i;
	table *t = table_new(bars ? 6 : 5, headers);

	fprintf(out, "%sSubscription %s on DST%s: %s", bold, o->sub, reset, s->enabled ? "enabled" : "disabled");
	if (s->worker_pid)
		fprintf(out, ", apply worker pid %ld\n", s->worker_pid);
	else
		fprintf(out, ", apply worker not running\n");

	for (i = 0; i < s->ntables; i++)
		order[i] = i;
	shown = s->ntables;
	if (max_rows >= 0 && s->ntables > max_rows) {
		sort_snapshot = s;
		qsort(order, (size_t) s->ntables, sizeof(int), compare_rows);
		shown = max_rows > 0 ? max_rows - 1 : 0;
	}
	table_align_right(t, 2);
	table_align_right(t, 3);
	table_align_right(t, 4);
	for (i = 0; i < shown; i++) {
		const table_row *r = &s->tables[order[i]];
		char *qualified = xasprintf("%s.%s", r->schema, r->name);
		const char *cells[6];

		snprintf(pct, sizeof(pct), "%.0f%%", progress_table_percent(r));
		format_bar(bar, sizeof(bar), progress_table_percent(r) / 100, ROW_BAR_WIDTH);
		cells[0] = qualified;
		cells[1] = state_names[r->state];
		cells[2] = size_or_dash(r->size, a, sizeof(a));
		cells[3] = format_bytes(r->copied, b, sizeof(b));
		cells[4] = pct;
		cells[5] = bar;
		table_add_row(t, cells);
		free(qualified);
	}
	if (s->ntables > 0) {
		fputc('\n', out);
		table_print(t, out);
	}
	if (shown < s->ntables) {
		int rest[NSTATES] = {0};

		for (i = shown; i < s->ntables; i++)
			rest[s->tables[order[i]].state]++;
		fprintf(out, "... and %d more:", s->ntables - shown);
		for (i = 0; i < NSTATES; i++)
			if (rest[i])
				fprintf(out, " %d %s", rest[i], state_names[i]);
		fputc('\n', out);
	}
	table_free(t);
	free(order);

	fprintf(out, "\n%sTables:%s %d streaming, %d synced, %d copying, %d waiting", bold, reset,
			s->count[STATE_STREAMING], s->count[STATE_SYNCED], s->count[STATE_COPYING],
			s->count[STATE_WAITING]);
	if (s->count[STATE_UNKNOWN])
		fprintf(out, ", %d unknown", s->count[STATE_UNKNOWN]);
	fprintf(out, " (of %d)\n", s->ntables);

	format_bar(bar, sizeof(bar), progress_total_percent(s) / 100, BAR_WIDTH);
	fprintf(out, "%sCopied:%s %s%s%s of %s (%.0f%%)", bold, reset, bars ? bar : "", bars ? " " : "",
			format_bytes(s->total_copied, a, sizeof(a)), format_bytes(s->total_size, b, sizeof(b)),
			progress_total_percent(s));
	if (!isnan(s->throughput))
		fprintf(out, ", %s/s", format_bytes(s->throughput, a, sizeof(a)));
	if (!isnan(s->eta))
		fprintf(out, ", ETA %s", s->eta > 0 ? format_duration(s->eta, a, sizeof(a)) : "done");
	else if (s->count[STATE_WAITING] + s->count[STATE_COPYING] > 0)
		fprintf(out, ", ETA unknown");
	fputc('\n', out);

	fprintf(out, "%sLag:%s %s", bold, reset, size_or_dash(s->lag_bytes, a, sizeof(a)));
	if (!isnan(s->lag_bytes))
		fprintf(out, " (slot: applied position)");
	if (isnan(s->lag_seconds))
		fprintf(out, ", seconds unknown (no apply worker)\n");
	else if (strcmp(s->lag_seconds_source, "heartbeat") == 0)
		fprintf(out, ", %s%s (heartbeat)\n", s->hb_applied ? "" : "up to ",
				format_seconds(s->lag_seconds, a, sizeof(a)));
	else
		fprintf(out, ", ~%s (estimate)\n", format_seconds(s->lag_seconds, a, sizeof(a)));

	if (s->slot_name == NULL)
		fprintf(out, "%sSlot:%s none (slot_name = NONE)\n", bold, reset);
	else if (!s->slot_found)
		fprintf(out, "%sSlot:%s %s not found on SRC\n", bold, reset, s->slot_name);
	else {
		fprintf(out, "%sSlot:%s %s %s, %s, WAL retained %s", bold, reset, s->slot_name,
				s->slot_active ? "active" : "inactive", s->wal_status ? s->wal_status : "-",
				isnan(s->wal_retained) ? "unknown (no restart_lsn)"
									   : format_bytes(s->wal_retained, a, sizeof(a)));
		if (isnan(s->wal_retained))
			; /* an invalidated slot keeps nothing: no share to show */
		else if (!s->slot_keep_known)
			fprintf(out, ", max_slot_wal_keep_size not available (before PostgreSQL 13: no limit)");
		else if (s->max_slot_keep > 0)
			fprintf(out, ", %.0f%% of %s (max_slot_wal_keep_size)", 100 * s->wal_retained / s->max_slot_keep,
					format_bytes(s->max_slot_keep, b, sizeof(b)));
		else
			fprintf(out, ", no limit (max_slot_wal_keep_size = -1)");
		if (o->wal_budget > 0 && !isnan(s->wal_retained))
			fprintf(out, ", %.0f%% of the budget %s (wal_budget_bytes)",
					100 * s->wal_retained / (double) o->wal_budget,
					format_bytes((double) o->wal_budget, b, sizeof(b)));
		fputc('\n', out);
	}
	fprintf(out, "%sDisk:%s SRC pg_wal %s; free space not measurable from SQL (check df)\n", bold, reset,
			isnan(s->wal_dir) ? "size unknown (pg_ls_waldir() needs a superuser)"
							  : format_bytes(s->wal_dir, c, sizeof(c)));

	for (i = 0; i < s->nwarnings; i++)
		fprintf(out, "%swarning:%s %s\n", yellow, reset, s->warnings[i]);
	for (i = 0; i < s->nnotes; i++)
		fprintf(out, "%snote:%s %s\n", yellow, reset, s->notes[i]);
	if (s->in_sync)
		fprintf(out, "%sIn sync%s: every table streams and the lag is within %s.\n", green, reset,
				format_bytes((double) o->max_lag, a, sizeof(a)));
	else {
		fprintf(out, "%sNot yet in sync%s: ", red, reset);
		for (i = 0; i < s->nwhy; i++)
			fprintf(out, "%s%s", i ? "; " : "", s->why[i]);
		fputc('\n', out);
	}
}

static void
terminal_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* Writes line clipped to cols visible characters (escape sequences kept whole). */
static void
put_clipped(const char *line, size_t len, int cols)
{
	size_t i = 0;
	int width = 0;

	while (i < len) {
		if (line[i] == '\033') {
			size_t j = i + 1;

			if (j < len && line[j] == '[')
				for (j++; j < len && !(line[j] >= '@' && line[j] <= '~'); j++)
					;
			fwrite(line + i, 1, j < len ? j + 1 - i : len - i, stdout);
			i = j + 1;
			continue;
		}
		if (((unsigned char) line[i] & 0xC0) != 0x80 && ++width > cols)
			break;
		if (width <= cols)
			fputc(line[i], stdout);
		i++;
	}
	/* The rest of a clipped multi-byte character is not written; close colour. */
	fputs(out_style(stdout, "reset"), stdout);
}

/* --watch on a terminal: the frame redrawn from the top of the screen. */
void
progress_frame(const snapshot *s, const progress_options *o)
{
	char *buf = NULL;
	size_t size = 0, pos = 0;
	FILE *mem = open_memstream(&buf, &size);
	int rows, cols, budget, lines = 0;
	char ts[32];

	if (mem == NULL)
		return;
	terminal_size(&rows, &cols);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&s->wall));
	fprintf(mem, "migkit progress: every %gs, Ctrl-C to stop%s    %s\n\n", o->interval,
			o->wait ? ", until in sync" : "", ts);
	/*
	 * Around the table rows (and their "... more" line): 5 lines above, 7
	 * below, a line per note; the last screen line stays free so the
	 * terminal never scrolls.
	 */
	budget = rows - 1 - 12 - s->nnotes - s->nwarnings;
	render_text(mem, s, o, true, out_color(stdout), budget < 3 ? 3 : budget);
	fclose(mem);

	fputs("\033[H", stdout);
	while (pos < size && lines < rows - 1) {
		const char *nl = memchr(buf + pos, '\n', size - pos);
		size_t len = nl ? (size_t) (nl - (buf + pos)) : size - pos;

		put_clipped(buf + pos, len, cols);
		fputs("\033[K\n", stdout);
		pos += len + (nl ? 1 : 0);
		lines++;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
	free(buf);
}

/* Prints the report of a refresh in the chosen format. */
void
progress_print(const snapshot *s, const progress_options *o)
{
	int i;

	if (o->json)
		progress_print_json(stdout, s, o);
	else if (o->prometheus) {
		progress_print_prometheus(stdout, s, o);
		for (i = 0; i < s->nwarnings; i++)
			log_warn("%s", s->warnings[i]);
	} else
		render_text(stdout, s, o, out_is_tty(stdout), out_color(stdout), -1);
	fflush(stdout);
}

void
progress_summary_line(char *buf, size_t size, const snapshot *s)
{
	strbuf sb;

	sb_init(&sb);
	summary_line(&sb, s);
	snprintf(buf, size, "%s", sb.data);
	sb_free(&sb);
}
