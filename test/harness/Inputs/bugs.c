void f(void) {
    /* BUG: one [api-without-gil] */
    call();
    /* BUG: two
     * lines [unbalanced-release] */
    return;
}
