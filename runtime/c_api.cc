// SPDX-License-Identifier: MIT
// The C API (convjit.h) over convjit::conv1d: exceptions become codes.
#include <string>

#include "runtime/conv1d.h"
#include "runtime/convjit.h"

struct convjit_layer {
  convjit::conv1d layer;
  std::string spec_text;
};

namespace {

thread_local std::string last_error;

template <class F>
int guarded(F&& body) {
  try {
    body();
    last_error.clear();
    return CONVJIT_OK;
  } catch (const convjit::error& e) {
    last_error = e.what();
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
    return static_cast<int>(convjit::errc::size_overflow);
  }
}

int invalid(const char* what) {
  last_error = what;
  return static_cast<int>(convjit::errc::invalid_argument);
}

}  // namespace

extern "C" {

int convjit_layer_create(const char* spec, const float* weight, size_t weight_count, const float* bias,
                         size_t bias_count, convjit_layer** layer) {
  if (!layer) return invalid("layer must not be NULL");
  *layer = nullptr;
  if (!spec) return invalid("spec must not be NULL");
  if ((!weight && weight_count) || (!bias && bias_count)) return invalid("a NULL array must have count 0");
  return guarded([&] {
    auto made = convjit::conv1d::create(convjit::parse_spec(spec), {weight, weight_count}, {bias, bias_count});
    std::string text = convjit::to_string(made.spec());
    *layer = new convjit_layer{std::move(made), std::move(text)};
  });
}

int convjit_layer_output_shape(const convjit_layer* layer, const int64_t* in_dims, int rank, int64_t* out_dims,
                               int* out_rank) {
  if (!layer || !out_dims || !out_rank || (!in_dims && rank > 0) || rank < 0)
    return invalid("layer, in_dims, out_dims and out_rank must not be NULL");
  return guarded([&] {
    const auto dims = layer->layer.output_dims({in_dims, static_cast<size_t>(rank)});
    for (size_t i = 0; i < dims.size(); ++i) out_dims[i] = dims[i];
    *out_rank = static_cast<int>(dims.size());
  });
}

int convjit_layer_forward(const convjit_layer* layer, const float* src, size_t src_count, const int64_t* in_dims,
                          int rank, float* dst, size_t dst_count) {
  if (!layer || (!in_dims && rank > 0) || rank < 0 || (!src && src_count) || (!dst && dst_count))
    return invalid("layer, in_dims, src and dst must not be NULL");
  return guarded([&] { layer->layer.forward({src, src_count}, {in_dims, static_cast<size_t>(rank)}, {dst, dst_count}); });
}

const char* convjit_layer_spec(const convjit_layer* layer) { return layer ? layer->spec_text.c_str() : ""; }

void convjit_layer_destroy(convjit_layer* layer) { delete layer; }

const char* convjit_error_name(int code) {
  // errc_name() returns literals, which are NUL-terminated.
  return convjit::errc_name(static_cast<convjit::errc>(code)).data();
}

const char* convjit_last_error(void) { return last_error.c_str(); }

}  // extern "C"
