/*
 * A small TAP producer for the unit tests: each check is one test line,
 * "ok N - what" or "not ok N - what" with the values on a diagnostic line.
 */
#ifndef MIGKIT_TAP_H
#define MIGKIT_TAP_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static inline bool
tap_ok(bool cond, const char *what, const char *file, int line)
{
	tap_count++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_count, what);
	if (!cond) {
		tap_failed++;
		printf("# failed at %s:%d\n", file, line);
	}
	return cond;
}

static inline bool
tap_str(const char *got, const char *want, const char *what, const char *file, int line)
{
	bool same = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);

	if (!tap_ok(same, what, file, line))
		printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)", want ? want : "(null)");
	return same;
}

static inline bool
tap_contains(const char *got, const char *part, bool want, const char *what, const char *file, int line)
{
	bool has = got && strstr(got, part) != NULL;

	if (!tap_ok(has == want, what, file, line))
		printf("#   %s \"%s\" in: %s\n", want ? "wanted" : "did not want", part, got ? got : "(null)");
	return has == want;
}

#define OK(cond, what)         tap_ok((cond), (what), __FILE__, __LINE__)
#define IS(got, want, what)    tap_str((got), (want), (what), __FILE__, __LINE__)
#define HAS(got, part, what)   tap_contains((got), (part), true, (what), __FILE__, __LINE__)
#define LACKS(got, part, what) tap_contains((got), (part), false, (what), __FILE__, __LINE__)

/* The plan, printed last ("1..N"), and the exit status. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
