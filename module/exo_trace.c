// SPDX-License-Identifier: GPL-2.0
/*
 * exo_trace.c - the one place exo's trace events (trace/exo_trace.h) are
 * defined; the rooms include the header and call trace_exo_*().
 */
#define CREATE_TRACE_POINTS
#include "trace/exo_trace.h"
