/*
 * migkit render, shared between its files: the kit writer (render.c),
 * which gives a kit's template values, renders its files and the fleet
 * directory's in memory, and writes a kit without ever writing over
 * another context's; writing a fleet of kits (render_fleet.c);
 * cmd_render.c holds the options and writes one kit.
 */
#ifndef MIGKIT_RENDER_H
#define MIGKIT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config_file.h"
#include "template.h"
#include "util.h"

typedef struct rendered {
	char *name; /* path inside the kit */
	char *text;
	mode_t mode;
} rendered;

typedef struct render_options {
	const char *output; /* -o, as given */
	const char *tdir;   /* the templates directory, home expanded; NULL for none */
	bool force;
	bool quiet;
} render_options;

/* render.c */

/* "~/x" as "$HOME/x", and a path made absolute (NULL, logged, on failure); caller frees. */
char *render_expand_home(const char *path);
char *render_absolute_path(const char *path);
/* The text of path, cut after about max bytes; NULL when it cannot be opened. */
char *render_read_file(const char *path, size_t max);

/* The template values of the kit of cfg in kit_dir. */
tpl_vars *render_vars(const mk_config *cfg, const char *kit_dir);
/* Renders every file of a kit (or its override in tdir); false (logged) on a template error. */
bool render_kit_files(const tpl_vars *vars, const char *tdir, rendered **out, int *nout);
/* The same for the files of a fleet's directory. */
bool render_fleet_files(const tpl_vars *vars, const char *tdir, rendered **out, int *nout);
void render_free_files(rendered *files, int n);

/* False (logged) when dir holds another context's kit or files that are no kit, unless force. */
bool render_check_target(const char *dir, const char *context, bool force);
bool render_write_kit(const char *kit_dir, const char *context, rendered *files, int n, bool quiet);
bool render_make_dirs(const char *path);
bool render_write_file(const char *path, const char *text, mode_t mode);

/* render_fleet.c: writes the kits of the fleet cfg and its directory. */
result_t render_fleet(mk_config *cfg, const render_options *opts);

#endif
