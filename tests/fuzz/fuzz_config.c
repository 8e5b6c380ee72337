/*
 * libFuzzer target for the migration.yml loader: the input is the file.
 * A config that loads is read back the way `migkit render` reads it, so
 * the derived defaults and the list texts are exercised too.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mk_config *c = config_load_buffer("fuzz.yml", (const char *) data, size);
	const key_def *k;

	if (c == NULL)
		return 0;
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
	config_free(c);
	return 0;
}
