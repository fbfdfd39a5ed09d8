#ifndef SPAM_LINUX_PROC_H
#define SPAM_LINUX_PROC_H
long spam_proc_count(void);
long spam_thread_count(void);
#endif
