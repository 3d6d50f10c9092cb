/* check.h: the unit-test harness. Each test program includes it, calls the
 * CHECK macros inside test functions run with RUN(), and ends main with
 * `return check_summary();`, which prints "N passed, M failed" and returns
 * non-zero on any failure. A check counts once, pass or fail. */
#ifndef USERSVC_CHECK_H
#define USERSVC_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed;
static int check_failed;

static inline void check_report(int ok, const char *file, int line, const char *what)
{
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
}

#define CHECK(cond) check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_INT_EQ(actual, expected)                                                     \
    do {                                                                                   \
        long long check_a_ = (long long)(actual), check_e_ = (long long)(expected);        \
        check_report(check_a_ == check_e_, __FILE__, __LINE__, #actual " == " #expected);  \
        if (check_a_ != check_e_)                                                          \
            fprintf(stderr, "     got %lld, want %lld\n", check_a_, check_e_);             \
    } while (0)

#define CHECK_STR_EQ(actual, expected)                                                     \
    do {                                                                                   \
        const char *check_a_ = (actual), *check_e_ = (expected);                           \
        int check_ok_ = check_a_ != NULL && check_e_ != NULL && strcmp(check_a_, check_e_) == 0; \
        check_report(check_ok_, __FILE__, __LINE__, #actual " eq " #expected);             \
        if (!check_ok_)                                                                    \
            fprintf(stderr, "     got  [%s]\n     want [%s]\n", check_a_ ? check_a_ : "(null)", \
                    check_e_ ? check_e_ : "(null)");                                       \
    } while (0)

#define RUN(test_fn)                                                                       \
    do {                                                                                   \
        int check_before_ = check_failed;                                                  \
        test_fn();                                                                         \
        if (check_failed != check_before_)                                                 \
            fprintf(stderr, "  in %s\n", #test_fn);                                        \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif
