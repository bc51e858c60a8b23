/* SPDX-License-Identifier: MIT
 * convjit's C API: one nn.Conv1d layer from other languages.
 *
 * Every function returns 0 (CONVJIT_OK) or an error code whose stable name
 * convjit_error_name() gives ("kernel_gt_input", ...); the readable message of
 * the calling thread's last error is convjit_last_error(). Nothing throws.
 *
 * Example:
 *   convjit_layer* layer;
 *   if (convjit_layer_create("Conv1d(40, 10, 3, stride=2, padding=3)",
 *                            w, 1200, b, 10, &layer) != CONVJIT_OK)
 *     fprintf(stderr, "%s\n", convjit_last_error());
 *   int64_t in[3] = {40, 40, 100}, out[3]; int rank;
 *   convjit_layer_output_shape(layer, in, 3, out, &rank);  // (40, 10, 52)
 *   convjit_layer_forward(layer, x, 40 * 40 * 100, in, 3, y, 40 * 10 * 52);
 *   convjit_layer_destroy(layer);
 */
#ifndef CONVJIT_CONVJIT_H_
#define CONVJIT_CONVJIT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONVJIT_OK 0

typedef struct convjit_layer convjit_layer;

/* Builds a layer from its PyTorch spelling, a weight (C_out, C_in/groups, K)
 * and a bias (C_out; NULL with count 0 when bias=False). The arrays are
 * copied. On error *layer is set to NULL. */
int convjit_layer_create(const char* spec, const float* weight, size_t weight_count, const float* bias,
                         size_t bias_count, convjit_layer** layer);

/* Output dims for an input of `rank` dims (2 or 3). out_dims has room for 3. */
int convjit_layer_output_shape(const convjit_layer* layer, const int64_t* in_dims, int rank, int64_t* out_dims,
                               int* out_rank);

/* dst = conv1d(src); the counts must match the input and output shapes. */
int convjit_layer_forward(const convjit_layer* layer, const float* src, size_t src_count, const int64_t* in_dims,
                          int rank, float* dst, size_t dst_count);

/* The canonical spelling of the layer's spec; valid while the layer lives. */
const char* convjit_layer_spec(const convjit_layer* layer);

void convjit_layer_destroy(convjit_layer* layer);

/* The stable name of an error code, e.g. "channel_mismatch". */
const char* convjit_error_name(int code);

/* The message of the calling thread's last error, "" if none. */
const char* convjit_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* CONVJIT_CONVJIT_H_ */
