// Probe for the test layer_include_boundaries: the scheduler's structures
// are the runtime's own, so this must fail to compile from the http layer
// ("runtime/sched.h" not found).
#include "runtime/sched.h"
