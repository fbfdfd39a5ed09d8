int direct_broken(void) { return also_undeclared; }
