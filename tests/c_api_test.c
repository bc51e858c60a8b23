/* SPDX-License-Identifier: MIT
 * The C API from C: create, shape, forward, errors. Exits non-zero on failure. */
#include <stdio.h>
#include <string.h>

#include "runtime/convjit.h"

static int failures = 0;
#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                 \
    }                                                             \
  } while (0)

int main(void) {
  float w[2 * 1 * 2] = {1, 1, 1, -1}, b[2] = {10, 20};
  convjit_layer* layer = NULL;
  CHECK(convjit_layer_create("Conv1d(2, 2, 2, stride=2, dilation=2, groups=2)", w, 4, b, 2, &layer) == CONVJIT_OK);
  CHECK(layer != NULL);
  CHECK(strcmp(convjit_layer_spec(layer), "Conv1d(2, 2, 2, stride=2, dilation=2, groups=2)") == 0);

  int64_t in[2] = {2, 5}, out[3] = {0, 0, 0};
  int rank = 0;
  CHECK(convjit_layer_output_shape(layer, in, 2, out, &rank) == CONVJIT_OK);
  CHECK(rank == 2 && out[0] == 2 && out[1] == 2);

  float x[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, y[4] = {0};
  CHECK(convjit_layer_forward(layer, x, 10, in, 2, y, 4) == CONVJIT_OK);
  CHECK(y[0] == 12 && y[1] == 16 && y[2] == 18 && y[3] == 18);

  int code = convjit_layer_forward(layer, x, 9, in, 2, y, 4);
  CHECK(strcmp(convjit_error_name(code), "buffer_size_mismatch") == 0);
  CHECK(strlen(convjit_last_error()) > 0);
  int64_t bad[3] = {1, 3, 5};
  code = convjit_layer_output_shape(layer, bad, 3, out, &rank);
  CHECK(strcmp(convjit_error_name(code), "channel_mismatch") == 0);
  convjit_layer_destroy(layer);

  convjit_layer* none = (convjit_layer*)1;
  code = convjit_layer_create("Conv1d(2, 2, 2, groups=0)", w, 4, b, 2, &none);
  CHECK(strcmp(convjit_error_name(code), "groups_nonpositive") == 0 && none == NULL);
  code = convjit_layer_create("Conv1d(2, 2,", w, 4, b, 2, &none);
  CHECK(strcmp(convjit_error_name(code), "parse_error") == 0);
  CHECK(strstr(convjit_last_error(), "column") != NULL);
  code = convjit_layer_create(NULL, w, 4, b, 2, &none);
  CHECK(strcmp(convjit_error_name(code), "invalid_argument") == 0);

  if (failures) return 1;
  return 0;
}
