// Control probe for the test layer_include_boundaries: what http code may
// include — its own private headers, the runtime's upward API and the
// public headers — compiles with http's include directories.
#include "gofer/http/server.h"
#include "http/conn.h"
#include "runtime/fatal.h"
#include "runtime/introspect.h"
#include "runtime/park.h"
#include "runtime/poll_desc.h"
#include "runtime/timer.h"
#include "runtime/trace.h"
