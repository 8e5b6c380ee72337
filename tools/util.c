/*
 * Logging, allocation and the growable string used across migkit.
 * Errors are logged once, where they happen; callers only return false.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

const char *progname = "migkit";

static void
log_line(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", progname, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("error: ", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

static void
out_of_memory(void)
{
	fprintf(stderr, "%s: error: out of memory\n", progname);
	exit(EXIT_TROUBLE);
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb_steal(&sb);
}

void
sb_init(strbuf *sb)
{
	sb->cap = 64;
	sb->len = 0;
	sb->data = xmalloc(sb->cap);
	sb->data[0] = '\0';
}

void
sb_free(strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

void
sb_reset(strbuf *sb)
{
	sb->len = 0;
	sb->data[0] = '\0';
}

static void
sb_grow(strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	while (sb->len + extra + 1 > sb->cap)
		sb->cap *= 2;
	sb->data = xrealloc(sb->data, sb->cap);
}

void
sb_append_len(strbuf *sb, const char *s, size_t len)
{
	sb_grow(sb, len);
	memcpy(sb->data + sb->len, s, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void
sb_append(strbuf *sb, const char *s)
{
	sb_append_len(sb, s, strlen(s));
}

void
sb_append_char(strbuf *sb, char c)
{
	sb_append_len(sb, &c, 1);
}

void
sb_vprintf(strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	sb_grow(sb, (size_t) n);
	vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
	sb->len += (size_t) n;
}

void
sb_printf(strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *
sb_steal(strbuf *sb)
{
	char *s = sb->data;

	sb->data = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
sb_append_escaped(strbuf *sb, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *) s; *p; p++) {
		if (*p == '\n')
			sb_append(sb, "\\n");
		else if (*p == '\r')
			sb_append(sb, "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			sb_printf(sb, "\\x%02x", *p);
		else
			sb_append_char(sb, (char) *p);
	}
}

bool
parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool
parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool
parse_seconds(const char *s, double *out)
{
	double v;

	if (!parse_double(s, &v) || v <= 0)
		return false;
	*out = v;
	return true;
}

bool
parse_bytes(const char *s, long long *out)
{
	static const struct {
		const char *unit;
		long long factor;
	} units[] = {
		{"", 1}, {"B", 1}, {"kB", 1LL << 10}, {"MB", 1LL << 20}, {"GB", 1LL << 30}, {"TB", 1LL << 40},
	};
	char *end;
	long long v;
	size_t i;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return false;
	while (*end == ' ')
		end++;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) == 0) {
			if (v > LLONG_MAX / units[i].factor)
				return false;
			*out = v * units[i].factor;
			return true;
		}
	}
	return false;
}

double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Reads exactly n digits at *p into *out and moves past them. */
static bool
take_digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

bool
parse_timestamp(const char *s, double *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 1;
	double frac = 0, scale = 0.1;
	struct tm tm;
	time_t t;

	if (!take_digits(&p, 4, &y) || *p++ != '-' || !take_digits(&p, 2, &mo) || *p++ != '-' ||
		!take_digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
		return false;
	p++;
	if (!take_digits(&p, 2, &h) || *p++ != ':' || !take_digits(&p, 2, &mi) || *p++ != ':' ||
		!take_digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!take_digits(&p, 2, &oh))
			return false;
		if (*p == ':')
			p++;
		if (*p >= '0' && *p <= '9' && !take_digits(&p, 2, &om))
			return false;
	} else
		return false;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
		om > 59)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (double) t + frac - sign * (oh * 3600 + om * 60);
	return true;
}

double
wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

bool
file_replace_open(file_replace *r, const char *path, unsigned mode)
{
	int fd;

	r->path = path;
	r->tmp = xasprintf("%s.tmp.%ld", path, (long) getpid());
	r->f = NULL;
	fd = open(r->tmp, O_WRONLY | O_CREAT | O_TRUNC, (mode_t) mode);
	if (fd >= 0 && fchmod(fd, (mode_t) mode) == 0 && (r->f = fdopen(fd, "w")) != NULL)
		return true;
	log_error("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(r->tmp);
	}
	free(r->tmp);
	r->tmp = NULL;
	return false;
}

bool
file_replace_commit(file_replace *r, bool durable)
{
	bool ok = fflush(r->f) == 0 && !ferror(r->f) && (!durable || fsync(fileno(r->f)) == 0);

	ok = fclose(r->f) == 0 && ok;
	ok = ok && rename(r->tmp, r->path) == 0;
	if (!ok) {
		log_error("cannot write %s: %s", r->path, strerror(errno));
		unlink(r->tmp);
	}
	free(r->tmp);
	r->tmp = NULL;
	r->f = NULL;
	return ok;
}
