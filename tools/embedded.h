/* Files compiled into the binary: the kit templates and shell library. */
#ifndef MIGKIT_EMBEDDED_H
#define MIGKIT_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name; /* path in the source tree, e.g. "templates/activate" */
	const char *data;
};

extern const struct embedded_file embedded_files[];

/* The embedded file of that source path, or NULL. */
const char *embedded_lookup(const char *name);

#endif
