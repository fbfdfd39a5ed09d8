/* A line-editing library (test/entry), in the manner of readline: hooks are
 * variables the program assigns and the library reads while it edits. */
extern int (*lined_startup_hook)(void);
extern int (*lined_event_hook)(void);
char *lined_read(const char *prompt);
void lined_free(char *line);
