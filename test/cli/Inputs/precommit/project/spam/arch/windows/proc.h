#ifndef SPAM_WINDOWS_PROC_H
#define SPAM_WINDOWS_PROC_H
#include <windows.h>
long spam_proc_count(void);
#endif
