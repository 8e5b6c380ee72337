/*
 * The kit writer of migkit render, for one kit and for each kit of a
 * fleet: the template values of a kit; its files, and the fleet
 * directory's, rendered in memory from the embedded files (a team's copy
 * of a template in its templates directory in place of the embedded one);
 * and writing a kit without ever writing over another context's kit or a
 * hook the team edited.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embedded.h"
#include "quote.h"
#include "render.h"

/* Hooks a team edits: a re-render never overwrites a changed one. */
static const char *const hook_scripts[] = {"disable-src", "re-routing", NULL};

#define CONTEXT_MARKER "kit/CONTEXT"

/* The fleet directory's files: embedded name, name there, mode; kit/ is copied as it is. */
static const struct fleet_file {
	const char *source;
	const char *name;
	mode_t mode;
} fleet_files[] = {
	{"templates/fleet", "fleet", 0700},
	{"templates/fleet-README.md", "README.md", 0600},
	{"kit/fleet.sh", "kit/fleet.sh", 0600},
	{NULL, NULL, 0},
};

/* "~/x" → "$HOME/x"; anything else as it is. */
char *
render_expand_home(const char *path)
{
	const char *home = getenv("HOME");

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home && *home)
		return xasprintf("%s%s", home, path + 1);
	return xstrdup(path);
}

/* An absolute path for a directory that may not exist yet. */
char *
render_absolute_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return xstrdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		log_error("cannot find the current directory: %s", strerror(errno));
		return NULL;
	}
	if (strcmp(path, ".") == 0)
		return xstrdup(cwd);
	return xasprintf("%s/%s", cwd, path);
}

static char *
self_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return xstrdup("migkit");
	buf[n] = '\0';
	return xstrdup(buf);
}

/* The text of path, cut after about max bytes; NULL when it cannot be opened. */
char *
render_read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	strbuf sb;
	char buf[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	sb_init(&sb);
	while (sb.len < max && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_append_len(&sb, buf, n);
	fclose(f);
	return sb_steal(&sb);
}

tpl_vars *
render_vars(const mk_config *cfg, const char *kit_dir)
{
	tpl_vars *v = tpl_vars_new();
	const key_def *k;
	char *s;

	for (k = config_keys; k->name; k++) {
		const config_value *cv = config_entry(cfg, k->name);

		if (k->type == KEY_LIST) {
			tpl_set_list(v, k->name, cv->items, cv->nitems);
			s = config_list_json(cfg, k->name);
			{
				char *jname = xasprintf("%s_json", k->name);

				tpl_set(v, jname, s);
				free(jname);
			}
			free(s);
		} else {
			tpl_set(v, k->name, cv->text ? cv->text : "");
		}
	}
	s = xasprintf("%s.%s", config_get(cfg, "src_cls"),
				  config_is_fleet(cfg) ? "fleet" : config_get(cfg, "src_db"));
	tpl_set(v, "context", s);
	free(s);
	tpl_set(v, "dir_path", kit_dir);
	{
		/* The kit's directory as one shell word, for commands the runbook shows. */
		strbuf w;

		sb_init(&w);
		shell_quote(&w, kit_dir);
		tpl_set(v, "dir_path_word", w.data);
		sb_free(&w);
	}
	s = self_path();
	tpl_set(v, "migkit_bin", s);
	free(s);
	tpl_set(v, "version", PACKAGE_VERSION);
	tpl_set(v, "fleet_dir", ""); /* a fleet's kit: the fleet's directory (render_fleet.c) */
	return v;
}

static bool
is_hook(const char *name)
{
	const char *const *h;

	for (h = hook_scripts; *h; h++)
		if (strcmp(*h, name) == 0)
			return true;
	return false;
}

/* True for the embedded files of a fleet's directory, which no kit holds. */
static bool
is_fleet_file(const char *name)
{
	const struct fleet_file *f;

	for (f = fleet_files; f->source; f++)
		if (strcmp(f->source, name) == 0)
			return true;
	return false;
}

/*
 * The text of the embedded file name (its text data): a template rendered
 * with vars, from the team's copy in tdir where it has one; kit/ as it is.
 */
static char *
rendered_text(const char *name, const char *data, const tpl_vars *vars, const char *tdir, tpl_mode mode)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	const char *source = data, *label = name;
	char *override = NULL, *path = NULL, *text;

	/* Only the scripts and the runbooks take values; kit/ is copied as it is. */
	if (strncmp(name, "kit/", 4) == 0)
		return xstrdup(data);
	/* A team's copy in its templates directory replaces a template, not the kit's library. */
	if (tdir) {
		path = xasprintf("%s/%s", tdir, base);
		override =
			render_read_file(path, TPL_MAX_TEXT + 1); /* enough for tpl_render to refuse a longer one */
		if (override) {
			source = override;
			label = path;
		}
	}
	text = tpl_render(label, source, vars, mode);
	free(override);
	free(path);
	return text;
}

/* Renders every embedded file of a kit (or its override in tdir) into out[]. */
bool
render_kit_files(const tpl_vars *vars, const char *tdir, rendered **out, int *nout)
{
	const struct embedded_file *e;
	int n = 0;

	for (e = embedded_files; e->name; e++)
		n++;
	*out = xcalloc((size_t) n, sizeof(rendered));
	*nout = 0;
	for (e = embedded_files; e->name; e++) {
		const char *base = strrchr(e->name, '/') ? strrchr(e->name, '/') + 1 : e->name;
		bool is_lib = strncmp(e->name, "kit/", 4) == 0;
		rendered *r = &(*out)[*nout];
		char *text;

		if (is_fleet_file(e->name))
			continue; /* the fleet directory's: render_fleet_files() */
		text = rendered_text(e->name, e->data, vars, tdir,
							 strcmp(base, "README.md") == 0 ? TPL_TEXT : TPL_SHELL);
		if (text == NULL)
			return false;
		r->name = is_lib ? xstrdup(e->name) : xstrdup(base);
		r->text = text;
		r->mode = (is_lib || strcmp(base, "README.md") == 0 || strcmp(base, "activate") == 0) ? 0600 : 0700;
		(*nout)++;
	}
	return true;
}

/* Renders the fleet directory's files (or their overrides in tdir) into out[]. */
bool
render_fleet_files(const tpl_vars *vars, const char *tdir, rendered **out, int *nout)
{
	const struct fleet_file *f;

	*out = xcalloc(sizeof(fleet_files) / sizeof(fleet_files[0]), sizeof(rendered));
	*nout = 0;
	for (f = fleet_files; f->source; f++) {
		const char *data = embedded_lookup(f->source);
		char *text;

		if (data == NULL) {
			log_error("internal error: %s is not embedded", f->source);
			return false;
		}
		text = rendered_text(f->source, data, vars, tdir, f->mode == 0700 ? TPL_SHELL : TPL_TEXT);
		if (text == NULL)
			return false;
		(*out)[*nout].name = xstrdup(f->name);
		(*out)[*nout].text = text;
		(*out)[*nout].mode = f->mode;
		(*nout)++;
	}
	return true;
}

void
render_free_files(rendered *files, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].text);
	}
	free(files);
}

static bool
make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST) {
		struct stat st;

		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
		log_error("%s exists and is not a directory", path);
		return false;
	}
	log_error("cannot create %s: %s", path, strerror(errno));
	return false;
}

/* mkdir -p with mode 0700 for the parts it creates. */
bool
render_make_dirs(const char *path)
{
	char *p = xstrdup(path), *s;
	bool ok = true;

	for (s = p + 1; *s && ok; s++) {
		if (*s == '/') {
			*s = '\0';
			if (access(p, F_OK) != 0)
				ok = make_dir(p);
			*s = '/';
		}
	}
	if (ok)
		ok = make_dir(p);
	free(p);
	return ok;
}

bool
render_write_file(const char *path, const char *text, mode_t mode)
{
	file_replace r;

	if (!file_replace_open(&r, path, mode))
		return false;
	(void) fputs(text, r.f); /* a failure shows in ferror() at the commit */
	return file_replace_commit(&r, false);
}

static bool
dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true;

	if (d == NULL)
		return true;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

/* Refuses to write over another context's kit or a directory that is no kit. */
bool
render_check_target(const char *kit_dir, const char *context, bool force)
{
	char *marker = xasprintf("%s/%s", kit_dir, CONTEXT_MARKER);
	char *existing = render_read_file(marker, SIZE_MAX);
	bool ok = true;

	if (existing) {
		size_t n = strlen(existing);

		while (n > 0 && existing[n - 1] == '\n')
			existing[--n] = '\0';
		if (strcmp(existing, context) != 0 && !force) {
			log_error(
				"%s holds the kit of context %s, not %s; choose another directory with -o, or --force to replace it",
				kit_dir, existing, context);
			ok = false;
		}
	} else if (access(kit_dir, F_OK) == 0 && !dir_is_empty(kit_dir) && !force) {
		log_error(
			"%s exists and is not a migkit kit; choose another directory with -o, or --force to write into it",
			kit_dir);
		ok = false;
	}
	free(existing);
	free(marker);
	return ok;
}

bool
render_write_kit(const char *kit_dir, const char *context, rendered *files, int n, bool quiet)
{
	static const char *const subdirs[] = {"kit", "kit/sql", "data", "log", "sql", NULL};
	const char *const *d;
	int i;

	if (!render_make_dirs(kit_dir))
		return false;
	chmod(kit_dir, 0700);
	for (d = subdirs; *d; d++) {
		char *p = xasprintf("%s/%s", kit_dir, *d);
		bool ok = make_dir(p);

		free(p);
		if (!ok)
			return false;
	}
	for (i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", kit_dir, files[i].name);
		char *old = is_hook(files[i].name) ? render_read_file(path, SIZE_MAX) : NULL;
		bool ok;

		if (old && strcmp(old, files[i].text) != 0) {
			char *newpath = xasprintf("%s.new", path);

			ok = render_write_file(newpath, files[i].text, files[i].mode);
			if (ok && !quiet)
				printf("kept your %s; the freshly rendered one is %s.new\n", files[i].name, files[i].name);
			free(newpath);
		} else {
			ok = render_write_file(path, files[i].text, files[i].mode);
		}
		free(old);
		free(path);
		if (!ok)
			return false;
	}
	{
		char *marker = xasprintf("%s/%s", kit_dir, CONTEXT_MARKER);
		char *text = xasprintf("%s\n", context);
		bool ok = render_write_file(marker, text, 0600);

		free(text);
		free(marker);
		return ok;
	}
}
