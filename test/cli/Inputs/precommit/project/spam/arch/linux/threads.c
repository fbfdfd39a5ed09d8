/* Not in the build's compilation database yet (a file added since the
 * build was recorded): it borrows the flags of its neighbour, proc.c. */
#include <dirent.h>
#include "../../_spam_common.h"
#include "proc.h"

long spam_thread_count(void)
{
    long n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}
