/*
 * libFuzzer target for the template engine.  The input chooses the mode and
 * the variables as well as the template, so both modes, scalar and list
 * sections and the error paths are all reached:
 *
 *   byte 0        bit 0: text mode (else shell); bits 1-3: how many items
 *                 the kit's lists hold (0-7); bit 4: the kit's scalars
 *                 are "false"; bit 5: they are empty
 *   up to a NUL   extra variables, one a line: "name=value" or
 *                 "name[]=item|item|..." for a list (optional: without a
 *                 NUL byte all the rest is the template)
 *   the rest      the template
 *
 * The kit's own names (config keys, context, dir_path, ...) are always set,
 * so the real templates in the corpus render.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kit_scalars[] = {
	"context_dir",     "src_cls",   "src_db",         "src_ip",       "src_port",     "src_pg",
	"dst_cls",         "dst_db",    "dst_ip",         "dst_port",     "dst_pg",       "sub_conn",
	"pub_name",        "sub_name",  "admin_user",     "repl_user",    "seq_shift",    "lag_max_bytes",
	"lag_max_seconds", "heartbeat", "templates_dir",  "context",      "dir_path",     "dir_path_word",
	"migkit_bin",      "version",   "app_roles_json", "include_json", "exclude_json", NULL,
};
static const char *const kit_lists[] = {"app_roles", "include", "exclude", NULL};

/* Values with the characters shell quoting must handle. */
static char *const sample_items[] = {
	"public.*", "it's", "a b", "$(x)", "", "sales.\"Order Items\"", "~/x", "-n",
};

/* Splits text at sep into a fresh array of strings; *n gets the count. */
static char **
split(const char *text, char sep, int *n)
{
	char **items = NULL;
	const char *p = text, *q;

	*n = 0;
	for (;;) {
		q = strchr(p, sep);
		items = xrealloc(items, sizeof(char *) * (size_t) (*n + 1));
		items[*n] = q ? xasprintf("%.*s", (int) (q - p), p) : xstrdup(p);
		(*n)++;
		if (q == NULL)
			return items;
		p = q + 1;
	}
}

static void
free_items(char **items, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* Adds "name=value" and "name[]=a|b" lines to vars. */
static void
set_extra(tpl_vars *vars, const char *spec)
{
	char **lines;
	int nlines, i;

	lines = split(spec, '\n', &nlines);
	for (i = 0; i < nlines; i++) {
		char *eq = strchr(lines[i], '=');

		if (eq == NULL || eq == lines[i])
			continue;
		*eq = '\0';
		if (eq - lines[i] > 2 && strcmp(eq - 2, "[]") == 0) {
			char **items;
			int nitems;

			eq[-2] = '\0';
			items = split(eq + 1, '|', &nitems);
			tpl_set_list(vars, lines[i], items, nitems);
			free_items(items, nitems);
		} else {
			tpl_set(vars, lines[i], eq + 1);
		}
	}
	free_items(lines, nlines);
}

/* The kit's names: lists of nitems items; scalars as their own name, "false" or "". */
static tpl_vars *
kit_vars(int nitems, int variant)
{
	tpl_vars *vars = tpl_vars_new();
	const char *const *name;

	for (name = kit_scalars; *name; name++)
		tpl_set(vars, *name, variant == 2 ? "" : variant == 1 ? "false" : *name);
	for (name = kit_lists; *name; name++)
		tpl_set_list(vars, *name, sample_items, nitems);
	return vars;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tpl_vars *kit[8][3]; /* built once: most inputs add no variables */
	tpl_vars *vars, *own = NULL;
	tpl_mode mode;
	const uint8_t *nul;
	char *text, *out;
	int nitems, variant;

	if (size == 0)
		return 0;
	mode = (data[0] & 1) ? TPL_TEXT : TPL_SHELL;
	nitems = (data[0] >> 1) & 7;
	variant = (data[0] & 0x20) ? 2 : (data[0] & 0x10) ? 1 : 0;
	data++;
	size--;

	nul = memchr(data, '\0', size);
	if (nul) {
		char *spec = xasprintf("%.*s", (int) (nul - data), (const char *) data);

		vars = own = kit_vars(nitems, variant);
		set_extra(own, spec);
		free(spec);
		size -= (size_t) (nul + 1 - data);
		data = nul + 1;
	} else {
		if (kit[nitems][variant] == NULL)
			kit[nitems][variant] = kit_vars(nitems, variant);
		vars = kit[nitems][variant];
	}
	/* The template is a C string: an inner NUL ends it, as it would a file's text. */
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	out = tpl_render("fuzz.tpl", text, vars, mode);
	free(out);
	free(text);
	tpl_vars_free(own);
	return 0;
}
