/*
 * The kit's template language, small and logic-less:
 *   {{name}}            the value; in scripts written as one shell word
 *   {{#name}}…{{/name}} repeated for each item of a list ({{.}} is the item),
 *                       or rendered once when a value is set and not "false"
 *   {{^name}}…{{/name}} rendered when the list is empty or the value unset/false
 *   {{! comment}}       dropped
 * A tag alone on its line takes the line with it.  An unknown name is an
 * error, never an empty string.  Input past the limits below is an error
 * too, so a template can neither crash nor stall the renderer.
 */
#ifndef MIGKIT_TEMPLATE_H
#define MIGKIT_TEMPLATE_H

#include <stddef.h>

#define TPL_MAX_TEXT  (1024 * 1024)     /* one template, in bytes */
#define TPL_MAX_DEPTH 32                /* sections nested in each other */
#ifndef TPL_MAX_WORK                    /* the fuzz build lowers it, to stay fast */
#define TPL_MAX_WORK (16 * 1024 * 1024) /* bytes read and written, each pass through a section counted */
#endif

typedef struct tpl_vars tpl_vars;

typedef enum {
	TPL_SHELL, /* values pass through shell_quote() */
	TPL_TEXT   /* values are written as they are (the runbook) */
} tpl_mode;

tpl_vars *tpl_vars_new(void);
void tpl_vars_free(tpl_vars *v);
void tpl_set(tpl_vars *v, const char *name, const char *value);
void tpl_set_list(tpl_vars *v, const char *name, char *const *items, int nitems);

/* Renders text; on error logs "NAME:LINE: message" and returns NULL. */
char *tpl_render(const char *name, const char *text, const tpl_vars *vars, tpl_mode mode);

#endif
