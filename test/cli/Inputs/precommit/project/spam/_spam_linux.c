#include <sys/sysinfo.h>
#include "_spam_common.h"
#include "arch/linux/proc.h"

static PyObject *spam_uptime(PyObject *self, PyObject *unused)
{
    struct sysinfo info;
    if (sysinfo(&info) != 0)
        return spam_raise_oserror("sysinfo");
    return PyLong_FromLong(info.uptime + spam_proc_count());
}

static PyMethodDef linux_methods[] = {
    {"uptime", spam_uptime, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};
