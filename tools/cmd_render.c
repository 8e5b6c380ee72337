/*
 * migkit render: reads migration.yml and writes the kit for one source
 * database with the kit writer (render.c), or, for a fleet, one kit per
 * database and the fleet's directory (render_fleet.c).  Every file is
 * rendered in memory first, so a template or value error leaves the disk
 * untouched.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "quote.h"
#include "config_file.h"
#include "template.h"
#include "render.h"

static void
render_help(void)
{
	printf("Usage: migkit render [OPTION]... CONFIG.yml\n\n"
		   "Writes the migration kit for the source database CONFIG.yml describes:\n"
		   "activate, the check-*, copy-*, create-*, drop-* scripts, cutover, rollback,\n"
		   "report, the hooks disable-src and re-routing, the runbook README.md and the\n"
		   "kit/ library.\n"
		   "With databases: (a list of SRC's databases, or all) it writes a fleet: one\n"
		   "kit per database, in <context_dir>/<src_cls>.<database>, and the fleet's\n"
		   "directory <context_dir>/<src_cls>.fleet (-o DIR: in DIR) with its runbook\n"
		   "README.md and the script fleet, which runs a step in every kit, several at\n"
		   "once, with one summary (fleet --help).\n"
		   "databases: all asks SRC which databases there are.\n\n"
		   "Options:\n"
		   "  -o, --output DIR      write the kit to DIR (default: <context_dir>/<src_cls>.<src_db>);\n"
		   "                        a fleet's kits and fleet directory go into DIR (default: <context_dir>)\n"
		   "  -f, --force           write into DIR even when it holds another kit or other files\n"
		   "  -t, --templates DIR   take templates from DIR where it has them (overrides templates_dir)\n"
		   "  -q, --quiet           print nothing but errors\n"
		   "  -h, --help            show this help and exit\n"
		   "  -V, --version         show the version and exit\n\n"
		   "Re-rendering the same context updates the scripts and keeps data/ and log/;\n"
		   "an edited hook (disable-src, re-routing) is kept and the new one written as NAME.new.\n\n"
		   "Exit status: 0 written, 2 error (nothing written).\n");
}

result_t
cmd_render(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"output", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{"templates", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	const char *output = NULL, *tdir_opt = NULL;
	bool force = false, quiet = false;
	mk_config *cfg = NULL;
	tpl_vars *vars = NULL;
	rendered *files = NULL;
	int nfiles = 0, c;
	char *kit_dir = NULL, *expanded = NULL, *tdir = NULL, *context = NULL;
	result_t result = RESULT_ERROR;

	if (cli_help_or_version(argc, argv, render_help))
		return RESULT_OK;
	while ((c = cli_getopt(argc, argv, "o:ft:q", long_options)) != -1) {
		switch (c) {
			case 'o': output = optarg; break;
			case 'f': force = true; break;
			case 't': tdir_opt = optarg; break;
			case 'q': quiet = true; break;
			default: return cli_usage(NULL);
		}
	}
	if (optind != argc - 1)
		return cli_usage(optind >= argc ? "no config file given" : "too many arguments");

	umask(077);
	cfg = config_load(argv[optind]);
	if (cfg == NULL)
		goto done;

	if (tdir_opt)
		tdir = render_expand_home(tdir_opt);
	else if (config_get(cfg, "templates_dir"))
		tdir = render_expand_home(config_get(cfg, "templates_dir"));
	if (tdir && access(tdir, R_OK | X_OK) != 0) {
		log_error("cannot read the templates directory %s: %s", tdir, strerror(errno));
		goto done;
	}
	if (config_is_fleet(cfg)) {
		render_options opts = {output, tdir, force, quiet};

		result = render_fleet(cfg, &opts);
		goto done;
	}

	context = xasprintf("%s.%s", config_get(cfg, "src_cls"), config_get(cfg, "src_db"));
	if (output)
		expanded = render_expand_home(output);
	else {
		char *base = render_expand_home(config_get(cfg, "context_dir"));

		expanded = xasprintf("%s/%s", base, context);
		free(base);
	}
	kit_dir = render_absolute_path(expanded);
	if (kit_dir == NULL)
		goto done;

	vars = render_vars(cfg, kit_dir);
	if (!render_kit_files(vars, tdir, &files, &nfiles))
		goto done;
	if (!render_check_target(kit_dir, context, force))
		goto done;
	if (!render_write_kit(kit_dir, context, files, nfiles, quiet))
		goto done;
	if (!quiet) {
		strbuf next;
		char *activate = xasprintf("%s/activate", kit_dir);

		sb_init(&next);
		if (!shell_quote(&next, activate))
			sb_append(&next, activate); /* a path with a line break: shown as it is */
		printf("rendered the kit for %s in %s (%d files)\n", context, kit_dir, nfiles);
		printf("next: . %s && ./check-user\n", next.data);
		sb_free(&next);
		free(activate);
	}
	result = RESULT_OK;

done:
	render_free_files(files, nfiles);
	tpl_vars_free(vars);
	config_free(cfg);
	free(kit_dir);
	free(expanded);
	free(tdir);
	free(context);
	return result;
}
