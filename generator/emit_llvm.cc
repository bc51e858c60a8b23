// SPDX-License-Identifier: MIT
// The LLVM IR emitter. Built with LLVM's compile flags (no exceptions): it
// reports failures through its return values, never by throwing.
//
// For Conv1d(512, 512, 3, stride=2) on AVX-512 (tile 8 oc x 3 vectors), the
// loop body of variant 8x3 is, per tap k (phase p, offset q), the same walk of
// kernel_plan::channel_step() as the other emitters':
//   %s0 = load <16 x float>, ptr (src + phase_p + q), align 4      ; three src vectors
//   %w  = splat (load float, ptr (wei + 8*k + o))                  ; per output channel o
//   %acc.o.j = call <16 x float> @llvm.fma.v16f32(%s.j, %w, %acc.o.j)
// with the accumulators carried around the channel loop in phi nodes.
#include "generator/emit_llvm.h"

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>

#include <map>
#include <mutex>

namespace convjit {

llvm_target host_llvm_target(isa target) {
  llvm_target t;
  t.triple = llvm::sys::getProcessTriple();
  const bool x86 = llvm::Triple(t.triple).isX86();
  if (!x86 || target == host_isa()) {
    t.cpu = llvm::sys::getHostCPUName().str();
    std::string features;
    for (const auto& feature : llvm::sys::getHostCPUFeatures())
      features += fmt::format("{}{}{}", features.empty() ? "" : ",", feature.second ? '+' : '-', feature.first().str());
    t.features = std::move(features);
  } else {
    // The JIT's target machine carries the host's features; switching off the
    // first feature above the cap switches off everything that implies it.
    t.cpu = target == isa::avx512 ? "x86-64-v4" : target == isa::avx2 ? "x86-64-v3" : "x86-64";
    t.features = target == isa::avx512 ? "" : target == isa::avx2 ? "-avx512f" : "-avx,-fma";
  }
  return t;
}

std::string llvm_function_name(const std::string& prefix, const kernel_plan::variant& v) {
  return prefix + "_" + v.name();
}

std::unique_ptr<llvm::Module> emit_llvm_module(const kernel_plan& p, llvm::LLVMContext& context,
                                               const llvm_target& target, const std::string& prefix) {
  using kind = kernel_plan::step_op::kind;
  auto module = std::make_unique<llvm::Module>(prefix, context);
  module->setTargetTriple(target.triple);
  llvm::IRBuilder<> b(context);
  llvm::Type* f32 = b.getFloatTy();
  llvm::Type* i64 = b.getInt64Ty();
  llvm::Type* ptr = b.getPtrTy();
  auto* vec = llvm::FixedVectorType::get(f32, unsigned(p.vlen));
  const llvm::Align float_align(sizeof(float));
  // conv1d_args (generator/kernel_abi.h), field by field.
  auto* args_type = llvm::StructType::get(context, {ptr, ptr, ptr, ptr, i64, i64, i64, i64, i64, ptr, i64, i64, i64});
  enum {
    kSrc, kWei, kBias, kDst, kSrcStride, kPhaseStride, kDstStride, kAccumulate, kDstColumnStride, kColumns, kStream,
    kSrcWrap, kLastLanes
  };
  auto* fn_type = llvm::FunctionType::get(b.getVoidTy(), {ptr}, false);
  // A portable plan may run where the CPU has no FMA: fmuladd fuses only where that is fast.
  llvm::Function* fma = llvm::Intrinsic::getDeclaration(
      module.get(), p.target == isa::scalar ? llvm::Intrinsic::fmuladd : llvm::Intrinsic::fma, {vec});

  for (const auto& v : p.variants()) {
    auto* f = llvm::Function::Create(fn_type, llvm::Function::ExternalLinkage, llvm_function_name(prefix, v), *module);
    f->addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty()) f->addFnAttr("target-features", target.features);
    const std::string vector_bits = std::to_string(p.vlen * 32);
    f->addFnAttr("min-legal-vector-width", vector_bits);  // keep 512-bit vectors whole
    f->addFnAttr("prefer-vector-width", vector_bits);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    auto* entry = llvm::BasicBlock::Create(context, "entry", f);
    b.SetInsertPoint(entry);
    llvm::Value* args = f->getArg(0);
    auto field = [&](unsigned index, llvm::Type* type, const char* name) {
      return b.CreateLoad(type, b.CreateStructGEP(args_type, args, index), name);
    };
    llvm::Value* src_start = field(kSrc, ptr, "src");
    llvm::Value* wei_start = field(kWei, ptr, "wei");
    llvm::Value* bias = field(kBias, ptr, "bias");
    llvm::Value* dst = field(kDst, ptr, "dst");
    llvm::Value* src_stride = field(kSrcStride, i64, "src_stride");
    llvm::Value* phase_stride = field(kPhaseStride, i64, "phase_stride");
    llvm::Value* dst_stride = field(kDstStride, i64, "dst_stride");
    llvm::Value* src_wrap = v.edge != row_edge::none ? field(kSrcWrap, i64, "src_wrap") : nullptr;
    auto dst_row = [&](int o) {  // output row o of the tile
      return b.CreateInBoundsGEP(f32, dst, b.CreateMul(dst_stride, b.getInt64(std::uint64_t(o))));
    };
    std::map<int, llvm::Value*> phase_start;  // floats from src to phase r
    if (v.reads_phases())
      for (int phase : p.phases_used)
        if (phase != 0) phase_start[phase] = b.CreateMul(phase_stride, b.getInt64(std::uint64_t(phase)));

    // Accumulators start at the bias, or zero; the other partial sums at zero.
    const int acc_rows = v.accumulator_rows();
    const int count = acc_rows * v.ur * v.sums + v.trailing;  // trailing column j's after the others
    auto index = [&](int o, int j, int sum = 0) {
      return std::size_t(o * v.ur * v.sums + kernel_plan::acc_column(v, j, sum));
    };
    llvm::Value* zero = llvm::ConstantAggregateZero::get(vec);
    std::vector<llvm::Value*> acc(std::size_t(count), zero);
    // Each way in gives acc(o, j) (o * ur + j) a start: the output so far (a
    // later input-channel block, or a column tile), the bias, or zero.
    std::vector<std::pair<llvm::BasicBlock*, std::vector<llvm::Value*>>> starts;
    // A partial last vector (conv1d_args::last_lanes): the mask of its first
    // lanes, which its loads of the output so far and its stores keep to.
    llvm::Value* last_lanes = nullptr;
    llvm::Value* last_mask = nullptr;
    if (p.masks_last_vector(v)) {
      last_lanes = field(kLastLanes, i64, "last_lanes");
      std::vector<llvm::Constant*> lane_numbers;
      for (int i = 0; i < p.vlen; ++i) lane_numbers.push_back(b.getInt64(std::uint64_t(i)));
      last_mask = b.CreateICmpULT(llvm::ConstantVector::get(lane_numbers), b.CreateVectorSplat(unsigned(p.vlen), last_lanes),
                                  "last_mask");
    }
    auto output_so_far = [&](bool masked) {
      std::vector<llvm::Value*> loaded;
      for (int o = 0; o < acc_rows; ++o) {
        llvm::Value* row = dst_row(o);
        for (int j = 0; j < v.ur; ++j) {
          llvm::Value* at = b.CreateConstInBoundsGEP1_64(f32, row, std::uint64_t(j * p.vlen));
          if (masked && j + 1 == v.ur) loaded.push_back(b.CreateMaskedLoad(vec, at, float_align, last_mask, zero));
          else loaded.push_back(b.CreateAlignedLoad(vec, at, float_align));
        }
      }
      return loaded;
    };
    // Branches to `masked` when the last vector is partial, else to `whole`.
    auto if_last_lanes = [&](llvm::BasicBlock* masked, llvm::BasicBlock* whole) {
      b.CreateCondBr(b.CreateICmpNE(last_lanes, b.getInt64(0)), masked, whole);
    };
    // With rows in lanes, the partial last row vector's lanes (a constant).
    const int partial_rows = v.row_vectors > 0 ? v.rows % p.vlen : 0;
    auto first_lanes = [&](int lanes) {
      std::vector<llvm::Constant*> mask;
      for (int i = 0; i < p.vlen; ++i) mask.push_back(b.getInt1(i < lanes));
      return llvm::ConstantVector::get(mask);
    };
    const bool sums_lanes = v.dot && v.row_vectors == 0;
    auto* ready = llvm::BasicBlock::Create(context, "ready", f);
    if (v.columns) {
      starts.push_back({b.GetInsertBlock(), output_so_far(false)});
    } else {
      if (p.adds_at_run_time(v)) {
        auto* from_output = llvm::BasicBlock::Create(context, "from_output", f);
        auto* fresh = llvm::BasicBlock::Create(context, "fresh", f);
        b.CreateCondBr(b.CreateICmpNE(field(kAccumulate, i64, "accumulate"), b.getInt64(0)), from_output, fresh);
        b.SetInsertPoint(from_output);
        if (last_mask) {
          auto* from_partial = llvm::BasicBlock::Create(context, "from_partial_output", f);
          auto* from_whole = llvm::BasicBlock::Create(context, "from_whole_output", f);
          if_last_lanes(from_partial, from_whole);
          b.SetInsertPoint(from_partial);
          starts.push_back({from_partial, output_so_far(true)});
          b.CreateBr(ready);
          b.SetInsertPoint(from_whole);
        }
        starts.push_back({b.GetInsertBlock(), output_so_far(false)});
        b.CreateBr(ready);
        b.SetInsertPoint(fresh);
      }
      starts.push_back({b.GetInsertBlock(), std::vector<llvm::Value*>(std::size_t(acc_rows * v.ur), zero)});
      if (p.spec.bias && !sums_lanes) {  // a dot tile summing lanes adds the bias after
        auto* with_bias = llvm::BasicBlock::Create(context, "bias", f);
        b.CreateCondBr(b.CreateIsNotNull(bias), with_bias, ready);
        b.SetInsertPoint(with_bias);
        std::vector<llvm::Value*> splat;
        for (int o = 0; o < acc_rows; ++o) {
          llvm::Value* rows_at = b.CreateConstInBoundsGEP1_64(f32, bias, std::uint64_t(o * p.vlen));
          llvm::Value* row_bias =
              v.lanes ? b.CreateAlignedLoad(vec, bias, float_align)  // a channel per lane
              : v.row_vectors > 0
                  ? (o + 1 == acc_rows && partial_rows > 0
                         ? static_cast<llvm::Value*>(b.CreateMaskedLoad(vec, rows_at, float_align, first_lanes(partial_rows), zero))
                         : b.CreateAlignedLoad(vec, rows_at, float_align))
                  : b.CreateVectorSplat(unsigned(p.vlen),
                                        b.CreateLoad(f32, b.CreateConstInBoundsGEP1_64(f32, bias, std::uint64_t(o))));
          splat.insert(splat.end(), std::size_t(v.ur), row_bias);
        }
        starts.push_back({with_bias, splat});
      }
    }
    b.CreateBr(ready);
    b.SetInsertPoint(ready);
    for (int o = 0; o < acc_rows; ++o)
      for (int j = 0; j < v.ur; ++j) {
        const std::size_t at = std::size_t(o * v.ur + j);
        if (starts.size() == 1) {
          acc[index(o, j)] = starts.front().second[at];
          continue;
        }
        llvm::PHINode* start = b.CreatePHI(vec, unsigned(starts.size()));
        for (const auto& [from, values] : starts) start->addIncoming(values[at], from);
        acc[index(o, j)] = start;
      }
    // Trailing columns always add to theirs.
    const std::size_t first_trailing = std::size_t(count - v.trailing);
    llvm::Value* columns = v.trailing > 0 ? field(kColumns, ptr, "columns") : nullptr;
    auto trailing_column = [&](int j) { return b.CreateConstInBoundsGEP1_64(f32, columns, std::uint64_t(j * p.vlen)); };
    for (int j = 0; j < v.trailing; ++j)
      acc[first_trailing + std::size_t(j)] = b.CreateAlignedLoad(vec, trailing_column(j), float_align);

    const std::int64_t channels = p.channel_steps(v);
    if (channels > 0) {
      llvm::BasicBlock* before = b.GetInsertBlock();
      auto* loop = llvm::BasicBlock::Create(context, "channel", f);
      auto* done = llvm::BasicBlock::Create(context, "store", f);
      b.CreateBr(loop);
      b.SetInsertPoint(loop);
      llvm::PHINode* c = b.CreatePHI(i64, 2, "c");
      llvm::PHINode* src = b.CreatePHI(ptr, 2, "src.c");
      llvm::PHINode* wei = b.CreatePHI(ptr, 2, "wei.c");
      std::vector<llvm::PHINode*> carried;
      for (llvm::Value* start : acc) {
        carried.push_back(b.CreatePHI(vec, 2));
        carried.back()->addIncoming(start, before);
      }
      c->addIncoming(b.getInt64(0), before);
      src->addIncoming(src_start, before);
      wei->addIncoming(wei_start, before);
      for (int i = 0; i < count; ++i) acc[std::size_t(i)] = carried[std::size_t(i)];

      llvm::Value* channel_src = src;  // the step's channel u: u rows and u channels' weights on
      llvm::Value* channel_wei = wei;
      int channel = 0;
      auto input_at = [&](const kernel_plan::step_op& op) {
        llvm::Value* at = b.getInt64(std::uint64_t(op.offset));
        if (op.phase != 0) at = b.CreateAdd(phase_start.at(op.phase), at);
        return b.CreateInBoundsGEP(f32, channel_src, at);
      };
      auto load_input = [&](const kernel_plan::step_op& op) -> llvm::Value* {
        if (!op.edge) return b.CreateAlignedLoad(vec, input_at(op), float_align);
        // Lane by lane, the padding applied: each a float of the row, or zero.
        llvm::Value* lanes = zero;
        const std::vector<lane_source> sources = p.edge_lanes(v, op.offset);
        for (int l = 0; l < p.vlen; ++l) {
          const lane_source& lane = sources[std::size_t(l)];
          if (lane.where == lane_source::from::zero) continue;
          llvm::Value* at = b.getInt64(std::uint64_t(lane.offset));
          if (lane.where == lane_source::from::wrapped) at = b.CreateAdd(src_wrap, at);
          lanes = b.CreateInsertElement(lanes, b.CreateLoad(f32, b.CreateGEP(f32, channel_src, at)), std::uint64_t(l));
        }
        return lanes;
      };
      // A dot tile's column j, src_stride floats after column j - 1; its
      // partial last vector a masked load (the lanes past it neither read nor counted).
      auto load_column = [&](const kernel_plan::step_op& op) -> llvm::Value* {
        llvm::Value* column = b.CreateInBoundsGEP(f32, channel_src, b.CreateMul(src_stride, b.getInt64(std::uint64_t(op.j))));
        llvm::Value* at = b.CreateConstInBoundsGEP1_64(f32, column, std::uint64_t(op.offset));
        if (op.what == kind::broadcast_column) return b.CreateVectorSplat(unsigned(p.vlen), b.CreateLoad(f32, at));
        if (op.lanes == 0) return b.CreateAlignedLoad(vec, at, float_align);
        return b.CreateMaskedLoad(vec, at, float_align, first_lanes(op.lanes), zero);
      };
      std::vector<llvm::Value*> src_vector(std::size_t(p.slide_src ? p.slide_sources(v.ur) : v.ur));
      // The weight register; with rows in lanes, one per row vector, and the broadcast column.
      std::vector<llvm::Value*> weights(std::size_t(std::max(1, v.row_vectors)));
      llvm::Value*& weight = weights[0];
      llvm::Value* broadcast = nullptr;
      for (const auto& op : p.channel_step(v)) {
        for (; channel < op.channel; ++channel) {
          channel_src = b.CreateInBoundsGEP(f32, channel_src, src_stride);
          channel_wei = b.CreateConstInBoundsGEP1_64(f32, channel_wei, std::uint64_t(p.channel_weights(v.rows)));
        }
        switch (op.what) {
          case kind::load_src: src_vector[std::size_t(op.j)] = v.dot ? load_column(op) : load_input(op); break;
          case kind::load_weight:
            weights[std::size_t(v.row_vectors > 0 ? op.o : 0)] =
                b.CreateAlignedLoad(vec, b.CreateConstInBoundsGEP1_64(f32, channel_wei, std::uint64_t(op.weight)), float_align);
            break;
          case kind::broadcast_column: broadcast = load_column(op); break;
          case kind::fma_column:
            acc[index(op.o, op.j)] = b.CreateCall(fma, {broadcast, weights[std::size_t(op.o)], acc[index(op.o, op.j)]});
            break;
          case kind::broadcast_weight:
            weight = b.CreateVectorSplat(unsigned(p.vlen),
                                         b.CreateLoad(f32, b.CreateConstInBoundsGEP1_64(f32, channel_wei, std::uint64_t(op.weight))));
            break;
          case kind::fma:
            acc[index(op.o, op.j, op.sum)] =
                b.CreateCall(fma, {src_vector[std::size_t(op.j)], weight, acc[index(op.o, op.j, op.sum)]});
            break;
          case kind::fma_broadcast_weight: {
            llvm::Value* w = b.CreateVectorSplat(
                unsigned(p.vlen), b.CreateLoad(f32, b.CreateConstInBoundsGEP1_64(f32, channel_wei, std::uint64_t(op.weight))));
            acc[index(op.o, op.j, op.sum)] = b.CreateCall(fma, {src_vector[std::size_t(op.j)], w, acc[index(op.o, op.j, op.sum)]});
            break;
          }
          case kind::fma_from_memory:
            acc[index(op.o, op.j, op.sum)] =
                b.CreateCall(fma, {v.dot ? load_column(op) : load_input(op), weight, acc[index(op.o, op.j, op.sum)]});
            break;
          case kind::fma_shifted: {
            llvm::Value* input = src_vector[std::size_t(op.src)];
            if (op.shift != 0) {  // lanes shift .. shift + vlen - 1 of the pair
              std::vector<int> lanes;
              for (int i = 0; i < p.vlen; ++i) lanes.push_back(op.shift + i);
              input = b.CreateShuffleVector(input, src_vector[std::size_t(op.src + 1)], lanes);
            }
            acc[index(op.o, op.j, op.sum)] = b.CreateCall(fma, {input, weight, acc[index(op.o, op.j, op.sum)]});
            break;
          }
          case kind::fma_broadcast_src:
          case kind::fma_trailing: {
            const std::size_t to = op.what == kind::fma_trailing ? first_trailing + std::size_t(op.j) : index(op.o, op.j, op.sum);
            llvm::Value* input = b.CreateVectorSplat(unsigned(p.vlen), b.CreateLoad(f32, input_at(op)));
            acc[to] = b.CreateCall(fma, {input, weight, acc[to]});
            break;
          }
        }
      }
      llvm::Value* next_c = b.CreateAdd(c, b.getInt64(1));
      const std::uint64_t step_floats = std::uint64_t(p.step_weight_floats(v));
      llvm::Value* next_src = v.dot ? b.CreateConstInBoundsGEP1_64(f32, channel_src, std::uint64_t(p.step_src_floats(v)))
                                    : b.CreateInBoundsGEP(f32, channel_src, src_stride);
      llvm::Value* next_wei = b.CreateConstInBoundsGEP1_64(f32, channel_wei, step_floats);
      llvm::BasicBlock* latch = b.GetInsertBlock();
      b.CreateCondBr(b.CreateICmpULT(next_c, b.getInt64(std::uint64_t(channels))), loop, done);
      c->addIncoming(next_c, latch);
      src->addIncoming(next_src, latch);
      wei->addIncoming(next_wei, latch);
      for (int i = 0; i < count; ++i) carried[std::size_t(i)]->addIncoming(acc[std::size_t(i)], latch);
      b.SetInsertPoint(done);
    }

    for (int o = 0; o < acc_rows; ++o)
      for (int sum = 1; sum < v.sums; ++sum)
        for (int j = 0; j < v.ur; ++j) acc[index(o, j)] = b.CreateFAdd(acc[index(o, j)], acc[index(o, j, sum)]);
    if (v.row_vectors > 0) {
      // Column j's rows at dst + j * dst_column_stride, contiguous, the partial last vector masked.
      llvm::Value* column_stride = field(kDstColumnStride, i64, "dst_column_stride");
      for (int j = 0; j < v.ur; ++j) {
        llvm::Value* rows = b.CreateInBoundsGEP(f32, dst, b.CreateMul(column_stride, b.getInt64(std::uint64_t(j))));
        for (int o = 0; o < acc_rows; ++o) {
          llvm::Value* at = b.CreateConstInBoundsGEP1_64(f32, rows, std::uint64_t(o * p.vlen));
          if (o + 1 == acc_rows && partial_rows > 0) b.CreateMaskedStore(acc[index(o, j)], at, float_align, first_lanes(partial_rows));
          else b.CreateAlignedStore(acc[index(o, j)], at, float_align);
        }
      }
      b.CreateRetVoid();
      continue;
    }
    if (v.dot) {
      // Each accumulator's lanes summed into one float, halving (lane i += lane
      // i + n/2), then the bias when there is one.
      std::vector<llvm::Value*> sums;
      for (int o = 0; o < v.rows; ++o)
        for (int j = 0; j < v.ur; ++j) {
          llvm::Value* lanes = acc[index(o, j)];
          for (int n = p.vlen / 2; n >= 1; n /= 2) {
            llvm::SmallVector<int, 16> low, high;
            for (int i = 0; i < n; ++i) {
              low.push_back(i);
              high.push_back(i + n);
            }
            lanes = b.CreateFAdd(b.CreateShuffleVector(lanes, low), b.CreateShuffleVector(lanes, high));
          }
          sums.push_back(b.CreateExtractElement(lanes, std::uint64_t(0)));
        }
      if (p.spec.bias) {
        llvm::BasicBlock* before = b.GetInsertBlock();
        auto* with_bias = llvm::BasicBlock::Create(context, "dot.bias", f);
        auto* store = llvm::BasicBlock::Create(context, "dot.store", f);
        b.CreateCondBr(b.CreateIsNotNull(bias), with_bias, store);
        b.SetInsertPoint(with_bias);
        std::vector<llvm::Value*> biased;
        for (int o = 0; o < v.rows; ++o)
          for (int j = 0; j < v.ur; ++j)
            biased.push_back(b.CreateFAdd(sums[std::size_t(o * v.ur + j)],
                                          b.CreateLoad(f32, b.CreateConstInBoundsGEP1_64(f32, bias, std::uint64_t(o)))));
        b.CreateBr(store);
        b.SetInsertPoint(store);
        for (std::size_t i = 0; i < sums.size(); ++i) {
          llvm::PHINode* out = b.CreatePHI(f32, 2);
          out->addIncoming(sums[i], before);
          out->addIncoming(biased[i], with_bias);
          sums[i] = out;
        }
      }
      llvm::Value* column_stride = field(kDstColumnStride, i64, "dst_column_stride");
      for (int o = 0; o < v.rows; ++o) {
        llvm::Value* row = dst_row(o);
        for (int j = 0; j < v.ur; ++j)
          b.CreateAlignedStore(sums[std::size_t(o * v.ur + j)],
                               b.CreateInBoundsGEP(f32, row, b.CreateMul(column_stride, b.getInt64(std::uint64_t(j)))),
                               float_align);
      }
      b.CreateRetVoid();
      continue;
    }
    enum class store_kind { plain, stream, masked };  // masked: the last vector's first lanes
    auto store_rows = [&](store_kind how) {
      // A streamed vector is whole and aligned (conv1d_args::stream): the
      // alignment lets x86 select its non-temporal store.
      llvm::MDNode* nontemporal =
          llvm::MDNode::get(context, llvm::ConstantAsMetadata::get(b.getInt32(1)));
      const bool stream = how == store_kind::stream;
      for (int o = 0; o < acc_rows; ++o) {
        llvm::Value* row = dst_row(o);
        for (int j = 0; j < v.ur; ++j) {
          llvm::Value* at = b.CreateConstInBoundsGEP1_64(f32, row, std::uint64_t(j * p.vlen));
          if (how == store_kind::masked && j + 1 == v.ur) {
            b.CreateMaskedStore(acc[index(o, j)], at, float_align, last_mask);
            continue;
          }
          llvm::StoreInst* store = b.CreateAlignedStore(
              acc[index(o, j)], at, stream ? llvm::Align(sizeof(float) * std::size_t(p.vlen)) : float_align);
          if (stream) store->setMetadata(llvm::LLVMContext::MD_nontemporal, nontemporal);
        }
      }
    };
    auto* stored = llvm::BasicBlock::Create(context, "stored", f);
    if (p.streams(v)) {
      auto* streamed = llvm::BasicBlock::Create(context, "streamed", f);
      auto* cached = llvm::BasicBlock::Create(context, "cached", f);
      b.CreateCondBr(b.CreateICmpNE(field(kStream, i64, "stream"), b.getInt64(0)), streamed, cached);
      b.SetInsertPoint(streamed);
      store_rows(store_kind::stream);
      b.CreateBr(stored);
      b.SetInsertPoint(cached);
    }
    if (last_mask) {
      auto* partial = llvm::BasicBlock::Create(context, "partial", f);
      auto* whole = llvm::BasicBlock::Create(context, "whole", f);
      if_last_lanes(partial, whole);
      b.SetInsertPoint(partial);
      store_rows(store_kind::masked);
      b.CreateBr(stored);
      b.SetInsertPoint(whole);
    }
    store_rows(store_kind::plain);
    b.CreateBr(stored);
    b.SetInsertPoint(stored);
    for (int j = 0; j < v.trailing; ++j)
      b.CreateAlignedStore(acc[first_trailing + std::size_t(j)], trailing_column(j), float_align);
    b.CreateRetVoid();
  }
  return module;
}

void optimize_llvm_module(llvm::Module& module) {
  // A short function pipeline: the IR is straight-line code already in SSA
  // form, so common subexpressions (phase offsets, splats) and instruction
  // combining are what is left; the full -O2 pipeline would only cost time.
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder;
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::FunctionPassManager functions;
  functions.addPass(llvm::EarlyCSEPass());
  functions.addPass(llvm::InstCombinePass());
  functions.addPass(llvm::SimplifyCFGPass());
  llvm::ModulePassManager passes;
  passes.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(functions)));
  passes.run(module, mam);
}

bool verify_llvm_module(const llvm::Module& module, std::string* why) {
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (!llvm::verifyModule(module, &os)) return true;
  *why = "the generated IR does not verify: " + os.str();
  return false;
}

namespace {

// The module of `plan`, verified and optimized; null with *why when the verifier objects.
std::unique_ptr<llvm::Module> verified_module(const kernel_plan& plan, llvm::LLVMContext& context,
                                              const llvm_target& target, std::string* why) {
  auto module = emit_llvm_module(plan, context, target, plan.name());
  if (!verify_llvm_module(*module, why)) return nullptr;
  optimize_llvm_module(*module);
  return module;
}

}  // namespace

std::string emit_llvm_ir(const kernel_plan& plan, const llvm_target& target, std::string* why) {
  llvm::LLVMContext context;
  auto module = verified_module(plan, context, target, why);
  if (!module) return {};
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os, nullptr);
  return os.str();
}

std::vector<std::uint8_t> emit_llvm_object(const kernel_plan& plan, const llvm_target& target, std::string* why) {
  static std::once_flag targets_ready;
  std::call_once(targets_ready, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  });
  std::string error;
  const llvm::Target* backend = llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!backend) {
    *why = fmt::format("LLVM cannot generate code for {}: {}", target.triple, error);
    return {};
  }
  std::unique_ptr<llvm::TargetMachine> machine(backend->createTargetMachine(
      target.triple, target.cpu, target.features, llvm::TargetOptions(), std::nullopt, std::nullopt,
      llvm::CodeGenOptLevel::Default));
  llvm::LLVMContext context;
  auto module = verified_module(plan, context, target, why);
  if (!module) return {};
  module->setDataLayout(machine->createDataLayout());
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    *why = fmt::format("LLVM cannot emit an object file for {}", target.triple);
    return {};
  }
  passes.run(*module);
  return std::vector<std::uint8_t>(object.begin(), object.end());
}

}  // namespace convjit
