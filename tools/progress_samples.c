/*
 * migkit progress --samples FILE: every refresh appended to FILE as one
 * line of JSON (time, the tables' states, bytes copied, lag in bytes and
 * seconds), the record of the copy and the lag over time that migkit
 * report reads back.  One write(2) per line in append mode, so lines of
 * runs side by side do not mix.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "progress.h"
#include "util.h"

bool
progress_append_sample(const char *path, const char *run, const snapshot *s, const progress_options *o)
{
	char ts[64], *buf = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&buf, &size);
	json j;
	int fd, i;
	bool ok;

	if (mem == NULL) {
		log_warn("cannot keep this refresh in %s: out of memory", path);
		return false;
	}
	json_init(&j, mem);
	json_object_begin(&j, NULL);
	json_string(&j, "time", format_timestamp(wall_seconds(), ts, sizeof(ts)));
	json_string(&j, "run", run);
	json_string(&j, "subscription", o->sub);
	json_bool(&j, "in_sync", s->in_sync);
	json_bool(&j, "enabled", s->enabled);
	json_object_begin(&j, "tables");
	json_int(&j, "total", s->ntables);
	for (i = 0; i < NSTATES; i++) {
		char key[32], *sp;

		snprintf(key, sizeof(key), "%s", state_names[i]);
		while ((sp = strchr(key, ' ')) != NULL)
			*sp = '_';
		json_int(&j, key, s->count[i]);
	}
	json_object_end(&j);
	json_int(&j, "size_bytes", (long long) s->total_size);
	json_int(&j, "copied_bytes", (long long) s->total_copied);
	json_double(&j, "throughput_bytes_per_second", s->throughput);
	json_double(&j, "eta_seconds", s->eta);
	json_object_begin(&j, "lag");
	if (isnan(s->lag_bytes))
		json_null(&j, "bytes");
	else
		json_int(&j, "bytes", (long long) s->lag_bytes);
	json_double(&j, "seconds", s->lag_seconds);
	json_string(&j, "seconds_source", s->lag_seconds_source);
	json_string(&j, "src_lsn", s->lag.known ? s->lag.src_lsn : NULL);
	json_string(&j, "applied_lsn", s->lag.known ? s->lag.applied_lsn : NULL);
	json_object_end(&j);
	json_object_end(&j);
	json_finish(&j);
	fclose(mem);

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, buf, size) == (ssize_t) size;
	if (!ok)
		log_warn("cannot append this refresh to %s: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) != 0 && ok) {
		log_warn("cannot append this refresh to %s: %s", path, strerror(errno));
		ok = false;
	}
	free(buf);
	return ok;
}
