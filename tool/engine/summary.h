/* summary.h: whole-program summaries (summary.c). */
#ifndef GILCHECK_SUMMARY_H
#define GILCHECK_SUMMARY_H
#include "flow.h"

void summarize_program(flow_program *p);

#endif
