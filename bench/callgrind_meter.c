/* Valgrind client requests for bench/submit.py --instructions: start the instrumentation once the
   drafts are prepared, count only around the measured calls, dump one total per measure. Compiled
   by the bench into its temporary folder; a no-op outside valgrind. */
#include <valgrind/callgrind.h>

void meter_start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }
void meter_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void meter_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
