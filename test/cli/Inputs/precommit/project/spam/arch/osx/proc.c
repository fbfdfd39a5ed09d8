/* Built on macOS only. */
#include <Python.h>
#include <libproc.h>
#include <mach/mach.h>

long spam_proc_count(void)
{
    return proc_listallpids(NULL, 0);
}
