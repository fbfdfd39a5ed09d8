#include <Python.h>

int broken( {
