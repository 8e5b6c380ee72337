/*
 * libFuzzer target for the migration.yml loader: the input is the file.
 * A config that loads is read back the way `migkit render` reads it, so
 * the derived defaults and the list texts are exercised too; a fleet's
 * through each of its databases' configurations, and "all" completed with
 * a few names as SRC might answer.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads back every key of a loaded one-database configuration. */
static void
read_back(const mk_config *c)
{
	const key_def *k;

	for (k = config_keys; k->name; k++) {
		const config_value *v = config_entry(c, k->name);
		const char *text = config_get(c, k->name);

		if (k->type == KEY_LIST) {
			char *json = config_list_json(c, k->name);

			free(json);
		} else if (k->required && (text == NULL || strchr(text, '\n'))) {
			abort(); /* a loaded config has every required key, on one line */
		}
		if (v == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const src_names[] = {"postgres", "shop", "crm", "fleet"};
	mk_config *c = config_load_buffer("fuzz.yml", (const char *) data, size);
	const config_database *dbs;
	int i, n;

	if (c == NULL)
		return 0;
	if (!config_is_fleet(c)) {
		read_back(c);
		config_free(c);
		return 0;
	}
	if (config_fleet_all(c) && !config_fleet_resolve(c, src_names, (int) (size % 4) + 1)) {
		config_free(c);
		return 0;
	}
	n = config_fleet_databases(c, &dbs);
	for (i = 0; i < n; i++) {
		mk_config *m = config_for_database(c, &dbs[i], i % 2 == 1);

		if (config_is_fleet(m) || strcmp(config_get(m, "src_db"), dbs[i].src) != 0)
			abort(); /* a database's configuration is one database's */
		read_back(m);
		config_free(m);
	}
	config_free(c);
	return 0;
}
