#ifndef OUTER_H
#define OUTER_H
#include "inner.h"
#define OUTER_ANSWER 42
#endif
