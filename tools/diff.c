/* migkit diff: under construction. */
#include "config.h"

#include "commands.h"

result_t
cmd_diff(int argc, char **argv)
{
	(void) argc;
	(void) argv;
	log_error("not written yet");
	return RESULT_ERROR;
}
