/* The C API tests' one assertion: on failure, print the condition with the library's last
 * error and exit non-zero (the tests are plain C99 programs run by ctest). */
#ifndef HEARTH_TESTS_CAPI_CHECK_H_
#define HEARTH_TESTS_CAPI_CHECK_H_

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hearth/c_api.h"

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, \
              __LINE__, #cond, hearth_last_error());                         \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

/* A call that must fail with `status` and a message containing `text`. */
#define CHECK_FAILS(call, status, text)                  \
  do {                                                   \
    CHECK((call) == (status));                           \
    CHECK(strstr(hearth_last_error(), (text)) != NULL);  \
  } while (0)

/* |a - b| within a relative tolerance of 1e-9 (figures computed in another order). */
#define CHECK_NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) <= 1e-9 * fabs((double)(b)) + 1e-15)

#endif /* HEARTH_TESTS_CAPI_CHECK_H_ */
