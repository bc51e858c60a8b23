// SPDX-License-Identifier: MIT
// The C++ emitter.
//
// For Conv1d(512, 512, 3, stride=2) on AVX-512 (tile 8 oc x 3 vectors), one
// input-channel step of variant_8x3 is, per tap k (phase p, offset q):
//   s0 = _mm512_loadu_ps(src + phase1 + q); ...              // three src vectors
//   w = _mm512_set1_ps(wei[8*k + o]);                         // per output channel o
//   acc{o}_{j} = _mm512_fmadd_ps(s{j}, w, acc{o}_{j});        // 24 FMAs
// the same walk of kernel_plan::channel_step() as the Xbyak emitter's.
#include "generator/emit_cpp.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "generator/error.h"

namespace convjit {
namespace {

// templates/*.in, embedded at configure time: {file name without .in, text}.
constexpr std::pair<std::string_view, std::string_view> kTemplates[] = {
#include "templates.inc"
};

std::string_view template_text(std::string_view name) {
  for (const auto& [file, text] : kTemplates)
    if (file == name) return text;
  throw error(errc::invalid_argument, fmt::format("convjit was built without the template {}.in", name));
}

template <class... Args>
std::string render(std::string_view template_name, Args&&... args) {
  return fmt::vformat(template_text(template_name), fmt::make_format_args(args...));
}

// An ISA's words: templates/aot_isa_<isa>.in, "key: pattern" lines, then after
// "---" the prelude the kernel files need.
struct vocabulary {
  std::map<std::string, std::string, std::less<>> words;
  std::string prelude;

  const std::string& operator[](std::string_view key) const {
    auto it = words.find(key);
    if (it == words.end()) throw error(errc::invalid_argument, fmt::format("no '{}' in an ISA template", key));
    return it->second;
  }
  template <class... Args>
  std::string say(std::string_view key, Args&&... args) const {
    return fmt::vformat((*this)[key], fmt::make_format_args(args...));
  }
};

const vocabulary& vocabulary_of(isa target) {
  static const auto all = [] {
    std::map<isa, vocabulary> v;
    for (isa i : {isa::scalar, isa::avx2, isa::avx512}) {
      std::string_view text = template_text(fmt::format("aot_isa_{}", isa_name(i)));
      vocabulary& words = v[i];
      while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        if (line == "---") {
          words.prelude = std::string(text);
          break;
        }
        if (line.empty() || line.front() == '#') continue;
        const std::size_t colon = line.find(':');
        std::string_view value = line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        words.words.emplace(std::string(line.substr(0, colon)), std::string(value));
      }
    }
    return v;
  }();
  return all.at(target);
}

std::string c_string(std::string_view text) {
  std::string quoted;
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted;
}

std::string variant_function_name(const kernel_plan::variant& v) {
  return "variant_" + v.name();
}

// Branches {condition (empty: else), lines indented 4} as one if-else chain
// at indent 2; a single branch (its lines indented 2) as it is.
std::string if_else_chain(const std::vector<std::pair<std::string, std::string>>& branches) {
  if (branches.size() == 1) return branches.front().second;
  std::string chain = "  ";
  for (std::size_t i = 0; i < branches.size(); ++i)
    chain += (branches[i].first.empty() ? std::string("{\n") : fmt::format("if ({}) {{\n", branches[i].first)) +
             branches[i].second + (i + 1 < branches.size() ? "  } else " : "  }\n");
  return chain;
}

std::string emit_variant(const kernel_plan& p, const kernel_plan::variant& v, const vocabulary& say) {
  using kind = kernel_plan::step_op::kind;
  // Accumulator column j + sum * ur (see kernel_plan::acc_column).
  auto acc = [&](int o, int j, int sum = 0) {
    return sum == 0 ? fmt::format("acc{}_{}", o, j) : fmt::format("acc{}_{}_{}", o, j, sum);
  };
  auto address = [&](const kernel_plan::step_op& op) {
    return op.phase == 0 ? fmt::format("src + {}", op.offset) : fmt::format("src + phase{} + {}", op.phase, op.offset);
  };

  std::string phases;
  if (v.reads_phases())
    for (int phase : p.phases_used)
      if (phase != 0) phases += fmt::format("  const std::int64_t phase{0} = {0} * args->phase_stride;\n", phase);

  const int acc_rows = v.accumulator_rows();
  std::vector<std::string> names;
  std::string partial_sums;  // start at zero
  for (int o = 0; o < acc_rows; ++o)
    for (int j = 0; j < v.ur; ++j) {
      names.push_back(acc(o, j));
      for (int sum = 1; sum < v.sums; ++sum) {
        names.push_back(acc(o, j, sum));
        partial_sums += fmt::format("\n  {} = {};", acc(o, j, sum), say["zero"]);
      }
    }

  auto zero = [&](std::string_view indent) {
    std::string lines;
    for (int o = 0; o < acc_rows; ++o)
      for (int j = 0; j < v.ur; ++j) lines += fmt::format("{}{} = {};\n", indent, acc(o, j), say["zero"]);
    return lines;
  };
  auto tile_address = [&](int o, int j) {
    return o == 0 ? fmt::format("dst + {}", j * p.vlen) : fmt::format("dst + {} * args->dst_stride + {}", o, j * p.vlen);
  };
  // A partial last vector (args->last_lanes): its first lanes only.
  const bool masks = p.masks_last_vector(v);
  // With rows in lanes, the partial last row vector's lanes (a constant).
  const int partial_rows = v.row_vectors > 0 ? v.rows % p.vlen : 0;
  const bool sums_lanes = v.dot && v.row_vectors == 0;
  const char* const last_lanes = "int(args->last_lanes)";
  auto output_so_far = [&](std::string_view indent, bool masked) {
    std::string lines;
    for (int o = 0; o < acc_rows; ++o)
      for (int j = 0; j < v.ur; ++j)
        lines += fmt::format("{}{} = {};\n", indent, acc(o, j),
                             masked && j + 1 == v.ur
                                 ? say.say("load_first", fmt::arg("address", tile_address(o, j)), fmt::arg("lanes", last_lanes))
                                 : say.say("load", fmt::arg("address", tile_address(o, j))));
    return lines;
  };
  // Each way in, as a branch of one if-else chain: the output so far (a later
  // input-channel block), the bias, zero. A column tile always adds.
  std::vector<std::pair<std::string, std::string>> ways;  // condition (empty: else), lines
  if (v.columns) ways.push_back({"", output_so_far("  ", false)});
  else {
    if (p.adds_at_run_time(v) && masks) ways.push_back({"args->accumulate && args->last_lanes", output_so_far("    ", true)});
    if (p.adds_at_run_time(v)) ways.push_back({"args->accumulate", output_so_far("    ", false)});
    if (p.spec.bias && !sums_lanes) {  // a dot tile summing lanes adds the bias after
      std::string from_bias;
      for (int o = 0; o < acc_rows; ++o) {
        const std::string rows_at = fmt::format("args->bias + {}", o * p.vlen);
        from_bias += fmt::format("    {} = {};\n", acc(o, 0),
                                 v.lanes ? say.say("load", fmt::arg("address", "args->bias"))  // a channel per lane
                                 : o + 1 == acc_rows && partial_rows > 0
                                     ? say.say("load_first", fmt::arg("address", rows_at), fmt::arg("lanes", partial_rows))
                                 : v.row_vectors > 0 ? say.say("load", fmt::arg("address", rows_at))
                                                     : say.say("splat", fmt::arg("value", fmt::format("args->bias[{}]", o))));
        for (int j = 1; j < v.ur; ++j) from_bias += fmt::format("    {} = {};\n", acc(o, j), acc(o, 0));
      }
      ways.push_back({"args->bias", from_bias});
    }
    ways.push_back({"", zero(ways.empty() ? "  " : "    ")});
  }
  std::string initialize = if_else_chain(ways);
  initialize.pop_back();  // the template ends the line
  initialize += partial_sums;
  // Trailing columns always add to theirs.
  auto trailing_column = [&](int j) { return fmt::format("args->columns + {}", j * p.vlen); };
  for (int j = 0; j < v.trailing; ++j) {
    names.push_back(fmt::format("column{}", j));
    initialize += fmt::format("\n  column{} = {};", j, say.say("load", fmt::arg("address", trailing_column(j))));
  }

  // The step's registers: the weight unless every FMA broadcasts its own, the sources.
  std::vector<std::string> registers;
  const std::vector<kernel_plan::step_op> ops = p.channel_step(v);
  if (v.row_vectors > 0) {  // a weight vector per row vector, a broadcast column
    for (int o = 0; o < v.row_vectors; ++o) registers.push_back(fmt::format("w{}", o));
    registers.push_back("column");
  } else if (std::any_of(ops.begin(), ops.end(), [](const auto& op) {
               return op.what == kind::broadcast_weight || op.what == kind::load_weight;
             })) {
    registers.push_back("w");
  }
  std::set<int> sources;  // each register once: a dot step loads its columns per vector of the reduction
  for (const auto& op : ops)
    if (op.what == kind::load_src) sources.insert(op.j);
  for (int j : sources) registers.push_back(fmt::format("s{}", j));
  const std::string locals =
      registers.empty() ? "" : fmt::format("    {} {};\n", say["vector"], fmt::join(registers, ", "));

  // The input vector an op reads; a dot tile's column j is src_stride floats
  // after column j - 1, its partial last vector only its first lanes.
  auto load_input = [&](const kernel_plan::step_op& op) {
    if (op.edge) {  // lane by lane, the padding applied
      std::vector<std::string> values;
      for (const lane_source& lane : p.edge_lanes(v, op.offset))
        values.push_back(lane.where == lane_source::from::zero ? "0.0f"
                         : lane.where == lane_source::from::src
                             ? fmt::format("src[{}]", lane.offset)
                             : fmt::format("src[args->src_wrap + {}]", lane.offset));
      return say.say("lanes", fmt::arg("values", fmt::join(values, ", ")));
    }
    if (!v.dot) return say.say("load", fmt::arg("address", address(op)));
    const std::string at = fmt::format("src + {} * args->src_stride + {}", op.j, op.offset);
    if (op.what == kind::broadcast_column) return say.say("splat", fmt::arg("value", fmt::format("*({})", at)));
    return op.lanes == 0 ? say.say("load", fmt::arg("address", at))
                         : say.say("load_first", fmt::arg("address", at), fmt::arg("lanes", op.lanes));
  };
  std::string step;
  int channel = 0;
  for (const auto& op : ops) {
    for (; channel < op.channel; ++channel)  // the step's next input channel
      step += fmt::format("    src += args->src_stride;\n    wei += {};\n", p.channel_weights(v.rows));
    switch (op.what) {
      case kind::load_src:
        step += fmt::format("    s{} = {};\n", op.j, load_input(op));
        break;
      case kind::broadcast_weight:
        step += fmt::format("    w = {};\n", say.say("splat", fmt::arg("value", fmt::format("wei[{}]", op.weight))));
        break;
      case kind::load_weight:
        step += fmt::format("    {} = {};\n", v.row_vectors > 0 ? fmt::format("w{}", op.o) : std::string("w"),
                            say.say("load", fmt::arg("address", fmt::format("wei + {}", op.weight))));
        break;
      case kind::broadcast_column: step += fmt::format("    column = {};\n", load_input(op)); break;
      case kind::fma_column:
        step += fmt::format("    {0} = {1};\n", acc(op.o, op.j),
                            say.say("fma", fmt::arg("a", "column"), fmt::arg("b", fmt::format("w{}", op.o)),
                                    fmt::arg("acc", acc(op.o, op.j))));
        break;
      case kind::fma:
        step += fmt::format("    {0} = {1};\n", acc(op.o, op.j, op.sum),
                            say.say("fma", fmt::arg("a", fmt::format("s{}", op.j)), fmt::arg("b", "w"),
                                    fmt::arg("acc", acc(op.o, op.j, op.sum))));
        break;
      case kind::fma_broadcast_weight:
        step += fmt::format("    {0} = {1};\n", acc(op.o, op.j, op.sum),
                            say.say("fma", fmt::arg("a", fmt::format("s{}", op.j)),
                                    fmt::arg("b", say.say("splat", fmt::arg("value", fmt::format("wei[{}]", op.weight)))),
                                    fmt::arg("acc", acc(op.o, op.j, op.sum))));
        break;
      case kind::fma_from_memory:
        step += fmt::format("    {0} = {1};\n", acc(op.o, op.j, op.sum),
                            say.say("fma", fmt::arg("a", load_input(op)), fmt::arg("b", "w"),
                                    fmt::arg("acc", acc(op.o, op.j, op.sum))));
        break;
      case kind::fma_shifted: {
        const std::string input =
            op.shift == 0 ? fmt::format("s{}", op.src)
                          : say.say("shift", fmt::arg("high", fmt::format("s{}", op.src + 1)),
                                    fmt::arg("low", fmt::format("s{}", op.src)), fmt::arg("lanes", op.shift));
        step += fmt::format("    {0} = {1};\n", acc(op.o, op.j, op.sum),
                            say.say("fma", fmt::arg("a", input), fmt::arg("b", "w"), fmt::arg("acc", acc(op.o, op.j, op.sum))));
        break;
      }
      case kind::fma_broadcast_src:
      case kind::fma_trailing: {
        const std::string to = op.what == kind::fma_trailing ? fmt::format("column{}", op.j) : acc(op.o, op.j, op.sum);
        step += fmt::format("    {0} = {1};\n", to,
                            say.say("fma", fmt::arg("a", say.say("splat", fmt::arg("value", fmt::format("*({})", address(op))))),
                                    fmt::arg("b", "w"), fmt::arg("acc", to)));
        break;
      }
    }
  }
  if (!step.empty()) step.pop_back();

  std::string store;
  for (int o = 0; o < acc_rows; ++o)
    for (int sum = 1; sum < v.sums; ++sum)
      for (int j = 0; j < v.ur; ++j)
        store += fmt::format("  {0} = {1};\n", acc(o, j),
                             say.say("add", fmt::arg("a", acc(o, j)), fmt::arg("b", acc(o, j, sum))));
  auto store_rows = [&](const char* how, const char* indent) {
    std::string rows;
    for (int o = 0; o < acc_rows; ++o)
      for (int j = 0; j < v.ur; ++j) {
        // store_first: the last vector's first lanes, the others whole.
        const bool whole = std::string_view(how) == "store_first" && j + 1 < v.ur;
        rows += indent +
                say.say(whole ? "store" : how, fmt::arg("address", tile_address(o, j)), fmt::arg("value", acc(o, j)),
                        fmt::arg("lanes", last_lanes)) +
                "\n";
      }
    return rows;
  };
  if (v.row_vectors > 0) {
    for (int j = 0; j < v.ur; ++j)  // column j's rows, contiguous
      for (int o = 0; o < acc_rows; ++o) {
        const std::string at = fmt::format("dst + {} * args->dst_column_stride + {}", j, o * p.vlen);
        store += "  " +
                 say.say(o + 1 == acc_rows && partial_rows > 0 ? "store_first" : "store", fmt::arg("address", at),
                         fmt::arg("value", acc(o, j)), fmt::arg("lanes", partial_rows)) +
                 "\n";
      }
  } else if (v.dot) {
    for (int o = 0; o < acc_rows; ++o)
      for (int j = 0; j < v.ur; ++j) {  // one float: the lanes summed, then the bias
        const std::string sum = fmt::format("out{}_{}", o, j);
        store += fmt::format("  float {} = {};\n", sum, say.say("sum_lanes", fmt::arg("value", acc(o, j))));
        if (p.spec.bias) store += fmt::format("  if (args->bias) {} += args->bias[{}];\n", sum, o);
        store += fmt::format("  dst[{} * args->dst_stride + {} * args->dst_column_stride] = {};\n", o, j, sum);
      }
  } else {
    // One if-else chain: streamed, a partial last vector, whole vectors.
    std::vector<std::pair<std::string, std::string>> how;  // condition (empty: else), lines
    if (p.streams(v)) how.push_back({"args->stream", store_rows("stream", "    ")});
    if (masks) how.push_back({"args->last_lanes", store_rows("store_first", "    ")});
    how.push_back({"", store_rows("store", how.empty() ? "  " : "    ")});
    store += if_else_chain(how);
  }
  for (int j = 0; j < v.trailing; ++j)
    store += "  " + say.say("store", fmt::arg("address", trailing_column(j)), fmt::arg("value", fmt::format("column{}", j))) + "\n";
  store.pop_back();

  const std::string tile =
      v.row_vectors > 0 ? fmt::format("{} position(s), a dot tile of {}-float columns, the rows in lanes", v.ur, p.dot_length)
      : v.dot     ? fmt::format("{} position(s), a dot tile of {}-float columns", v.ur, p.dot_length)
      : v.lanes ? fmt::format("{} position(s) of {} channel lanes, from a transposed window", v.ur, p.vlen)
      : v.columns ? fmt::format("{} position(s) of {} output-channel lanes, adding to a position-major scratch{}", v.ur,
                                v.rows, v.compact ? ", reading a tap-segment window" : "")
            : fmt::format("{} vector(s) of {} positions{}{}{}{}{}", v.ur, p.vlen, v.compact ? ", reading a tap-segment window" : "",
                          v.edge == row_edge::left    ? ", a row's first, padding its left end"
                          : v.edge == row_edge::right ? ", a row's last, padding its right end"
                          : v.skip_first > 0 ? fmt::format(", leaving out its first {} tap(s), which read only padding", v.skip_first)
                          : v.skip_last > 0  ? fmt::format(", leaving out its last {} tap(s), which read only padding", v.skip_last)
                                                      : "",
                          p.adds_at_run_time(v) ? ", or adding to the output" : "",
                          p.streams(v) ? ", stored past the caches when args->stream" : "",
                          v.trailing ? fmt::format(", and {} trailing position(s) adding to a position-major scratch", v.trailing) : "");
  return render("aot_variant.cc", fmt::arg("rows", v.rows), fmt::arg("ur", v.ur), fmt::arg("tile", tile),
                fmt::arg("function", variant_function_name(v)), fmt::arg("phases", phases),
                fmt::arg("vector", say["vector"]), fmt::arg("accumulators", fmt::join(names, ", ")),
                fmt::arg("initialize", initialize), fmt::arg("channels", p.channel_steps(v)),
                fmt::arg("src_step", v.dot ? std::to_string(p.step_src_floats(v)) : std::string("args->src_stride")),
                fmt::arg("weight_step", p.step_weight_floats(v)), fmt::arg("locals", locals),
                fmt::arg("step", step), fmt::arg("store", store));
}

}  // namespace

std::string_view generator_version() { return CONVJIT_VERSION; }

std::string_view cpp_compile_flags(isa target) { return vocabulary_of(target)["flags"]; }

std::string emit_cpp_kernel(const kernel_plan& plan, std::string_view model_id, std::span<const std::string> specs,
                            std::span<const std::string> layers) {
  const vocabulary& say = vocabulary_of(plan.target);
  std::string spec_list;
  for (const std::string& spec : specs) spec_list += fmt::format("    \"{}\",\n", c_string(spec));
  if (specs.empty()) spec_list = fmt::format("    \"{}\",\n", c_string(to_string(plan.spec)));
  spec_list.pop_back();
  std::string functions, entries;
  for (const auto& v : plan.variants()) {
    functions += emit_variant(plan, v, say);
    entries += fmt::format("    {},\n", variant_function_name(v));
  }
  entries.pop_back();
  const std::string flags = say["flags"].empty() ? std::string("no special flags (portable C++17)") : say["flags"];
  return render("aot_kernel.cc", fmt::arg("version", generator_version()), fmt::arg("spec", to_string(plan.spec)),
                fmt::arg("isa", isa_name(plan.target)), fmt::arg("layers", fmt::join(layers, ", ")),
                fmt::arg("plan", plan.describe()), fmt::arg("flags", flags), fmt::arg("includes", say["includes"]),
                fmt::arg("prelude", say.prelude), fmt::arg("model", model_id), fmt::arg("kernel", plan.name()),
                fmt::arg("functions", functions), fmt::arg("entries", entries),
                fmt::arg("entry_count", plan.variants().size()), fmt::arg("specs", spec_list));
}

std::vector<generated_file> emit_cpp_model(std::span<const model_layer> layers, std::string_view model_file,
                                           std::string_view model_id, std::span<const isa> targets,
                                           std::vector<std::string>* notes) {
  // Distinct specs in order of first appearance, with the layers that use each.
  std::vector<std::pair<conv1d_spec, std::vector<std::string>>> specs;
  for (const model_layer& layer : layers) {
    check_layer(layer.spec);  // a layer that can never run has no kernel
    auto it = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.first == layer.spec; });
    if (it == specs.end()) it = specs.insert(specs.end(), {layer.spec, {}});
    it->second.push_back(layer.name.empty() ? fmt::format("line {}", layer.line) : layer.name);
  }

  std::vector<generated_file> files;
  std::string declarations, registered;
  for (isa target : targets) {
    const vocabulary& say = vocabulary_of(target);
    // One kernel per plan: specs that differ only in padding share one.
    struct kernel_users {
      kernel_plan plan;
      std::vector<std::string> specs, layers;
    };
    std::vector<kernel_users> kernels;
    for (const auto& [spec, names] : specs) {
      std::string why;
      auto plan = make_plan(spec, target, &why);
      if (!plan) {
        if (notes) notes->push_back(fmt::format("{}: no {} kernel: {}", fmt::join(names, ", "), isa_name(target), why));
        continue;
      }
      auto it = std::find_if(kernels.begin(), kernels.end(), [&](const auto& k) { return k.plan.name() == plan->name(); });
      if (it == kernels.end()) it = kernels.insert(kernels.end(), {std::move(*plan), {}, {}});
      it->specs.push_back(to_string(spec));
      it->layers.insert(it->layers.end(), names.begin(), names.end());
    }
    std::string includes;
    for (const kernel_users& k : kernels) {
      const std::string name = k.plan.name();
      files.push_back({name + ".cc", emit_cpp_kernel(k.plan, model_id, k.specs, k.layers)});
      includes += fmt::format("#include \"{}.cc\"\n", name);
      declarations += fmt::format("extern const convjit::aot_kernel_info {};\n", name);
      registered += fmt::format("    &convjit_aot::{}::{},\n", model_id, name);
    }
    const std::string flags = say["flags"].empty() ? std::string("any C++17 compiler's defaults") : say["flags"];
    files.push_back({fmt::format("kernels_{}.cc", isa_name(target)),
                     render("aot_unit.cc", fmt::arg("version", generator_version()), fmt::arg("model_file", model_file),
                            fmt::arg("isa", isa_name(target)), fmt::arg("flags", flags), fmt::arg("guard", say["guard"]),
                            fmt::arg("includes", includes))});
  }
  if (!declarations.empty()) declarations.pop_back();
  if (!registered.empty()) registered.pop_back();
  files.push_back({"registry.cc", render("aot_registry.cc", fmt::arg("version", generator_version()),
                                         fmt::arg("model_file", model_file), fmt::arg("model", model_id),
                                         fmt::arg("declarations", declarations), fmt::arg("kernels", registered))});
  return files;
}

std::string model_identifier(std::string_view model_file) {
  std::string_view stem = model_file.substr(model_file.find_last_of('/') + 1);
  stem = stem.substr(0, stem.find('.'));
  std::string id;
  for (char c : stem) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || !std::isalpha(static_cast<unsigned char>(id.front()))) id = "model_" + id;
  return id;
}

}  // namespace convjit
