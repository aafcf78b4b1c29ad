// LLVM code generation for the predicate IR, compiled with LLJIT. The only
// translation unit that includes LLVM.
//
// Per predicate three functions are generated: `lane` computes the predicate
// for one friend (scalar code mirroring the interpreter node by node);
// `row` wraps it for per-event use; `scan` runs it over the friends 64 at a
// time and packs the results into one 64-bit mask per block — a loop shape
// the optimiser unrolls and vectorises.
#include "runtime/jit/jit.hpp"

#include <llvm/ADT/StringRef.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Transforms/IPO/AlwaysInliner.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/LICM.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Utils/LCSSA.h>
#include <llvm/Transforms/Utils/LoopSimplify.h>
#include <llvm/Transforms/Vectorize/LoopVectorize.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

#include "stdlib/functions.hpp"

namespace okuri::jit {

namespace fs = std::filesystem;
using namespace llvm;

bool Jit::available() { return true; }

std::string default_cache_dir() {
  if (const char* d = std::getenv("OKURI_CACHE_DIR"); d != nullptr && *d != 0) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != 0) return std::string(x) + "/okuri/jit";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != 0) return std::string(h) + "/.cache/okuri/jit";
  return ".okuri-cache/jit";
}

namespace {

using Type = llvm::Type;

[[noreturn]] void fail(const std::string& what, Error e) {
  std::string msg;
  raw_string_ostream os(msg);
  os << e;
  throw std::runtime_error("JIT: " + what + ": " + os.str());
}

template <typename T>
T check(Expected<T> v, const std::string& what) {
  if (!v) fail(what, v.takeError());
  return std::move(*v);
}

std::uint64_t fnv(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Writes each compiled object to the cache folder under its module's name.
class DiskCache : public ObjectCache {
 public:
  explicit DiskCache(std::string dir) : dir_(std::move(dir)) {}
  void notifyObjectCompiled(const Module* m, MemoryBufferRef obj) override {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    const std::string path = dir_ + "/" + m->getModuleIdentifier() + ".o";
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(obj.getBufferStart(), static_cast<std::streamsize>(obj.getBufferSize()));
    out.close();
    if (out) fs::rename(tmp, path, ec);
    if (ec || !out) fs::remove(tmp, ec);
  }
  std::unique_ptr<MemoryBuffer> getObject(const Module*) override { return nullptr; }  // looked up before compiling

 private:
  std::string dir_;
};

struct V {
  Value* v = nullptr;      // i64, or i1 for Bool
  Value* known = nullptr;  // i1
  Value* ptr = nullptr;    // text
  Value* len = nullptr;    // text
};

class Codegen {
 public:
  Codegen(LLVMContext& c, Module& m, const ir::Schema& s) : C(c), M(m), B(c), schema_(s), L(s) {
    i1 = Type::getInt1Ty(C);
    i8 = Type::getInt8Ty(C);
    i16 = Type::getInt16Ty(C);
    i32 = Type::getInt32Ty(C);
    i64 = Type::getInt64Ty(C);
    ptr = PointerType::get(C, 0);
    auto decl = [&](const char* name, Type* ret, std::vector<Type*> args) {
      auto* f = Function::Create(FunctionType::get(ret, args, false), Function::ExternalLinkage, name, M);
      f->setDoesNotThrow();
      return f;
    };
    f_contains_ = decl("okuri_std_contains", i32, {ptr, i64, ptr, i64});
    f_starts_ = decl("okuri_std_starts_with", i32, {ptr, i64, ptr, i64});
    f_texteq_ = decl("okuri_std_text_eq", i32, {ptr, i64, ptr, i64});
    f_month_ = decl("okuri_std_month", i64, {i64});
    f_day_ = decl("okuri_std_day", i64, {i64});
    f_weekday_ = decl("okuri_std_weekday", i64, {i64});
    f_local_days_ = decl("okuri_std_local_days", i64, {i64, ptr});
    f_local_minute_ = decl("okuri_std_local_minute", i64, {i64, ptr});
    for (Function* f : {f_month_, f_day_, f_weekday_}) f->setDoesNotAccessMemory();
    empty_ = B.CreateGlobalString("", "okuri.empty", 0, &M);
  }

  // Generates `<name>_scan` and `<name>_row` for one predicate.
  void generate(const ir::Predicate& p, const std::string& name, const std::string& cpu, const std::string& features,
                bool separate_row_lane) {
    Function* lane_scan = lane(p, name + "_lane_scan", false, cpu, features);
    // Tier 1 compiles as little as it can: the row form reuses the scan lane unless it reads the event.
    Function* lane_row = lane_scan;
    if (separate_row_lane || p.uses_event()) {
      short_circuit_ = true;
      lane_row = lane(p, name + "_lane_row", p.uses_event(), cpu, features);
      short_circuit_ = false;
    }
    // row(cols, env, row, event) -> i8
    {
      auto* f = Function::Create(FunctionType::get(i8, {ptr, ptr, i64, ptr}, false), Function::ExternalLinkage, name + "_row", M);
      attrs(f, cpu, features);
      B.SetInsertPoint(BasicBlock::Create(C, "entry", f));
      auto* r = B.CreateCall(lane_row, {f->getArg(0), f->getArg(1), f->getArg(2), f->getArg(3)});
      B.CreateRet(B.CreateZExt(r, i8));
    }
    // scan(cols, env, nrows, out): full blocks of 64, then the tail.
    {
      auto* f = Function::Create(FunctionType::get(Type::getVoidTy(C), {ptr, ptr, i64, ptr}, false), Function::ExternalLinkage,
                                 name + "_scan", M);
      attrs(f, cpu, features);
      Value* cols = f->getArg(0);
      Value* env = f->getArg(1);
      Value* nrows = f->getArg(2);
      Value* out = f->getArg(3);
      // The columns, the environment and the output never overlap: lets LICM hoist the column pointers.
      for (unsigned a : {0u, 1u, 3u}) f->getArg(a)->addAttr(Attribute::NoAlias);
      f->getArg(0)->addAttr(Attribute::ReadOnly);
      f->getArg(1)->addAttr(Attribute::ReadOnly);
      auto* entry = BasicBlock::Create(C, "entry", f);
      auto* block_head = BasicBlock::Create(C, "block", f);
      auto* lane_head = BasicBlock::Create(C, "lane", f);
      auto* block_end = BasicBlock::Create(C, "block.end", f);
      auto* done = BasicBlock::Create(C, "done", f);
      B.SetInsertPoint(entry);
      Value* nblocks = B.CreateLShr(B.CreateAdd(nrows, B.getInt64(63)), 6);
      Value* any = B.CreateICmpUGT(nblocks, B.getInt64(0));
      B.CreateCondBr(any, block_head, done);
      B.SetInsertPoint(block_head);
      PHINode* blk = B.CreatePHI(i64, 2, "b");
      blk->addIncoming(B.getInt64(0), entry);
      Value* base = B.CreateShl(blk, 6);
      Value* left = B.CreateSub(nrows, base);
      Value* lanes = B.CreateSelect(B.CreateICmpULT(left, B.getInt64(64)), left, B.getInt64(64));
      B.CreateBr(lane_head);
      B.SetInsertPoint(lane_head);
      PHINode* i = B.CreatePHI(i64, 2, "i");
      PHINode* mask = B.CreatePHI(i64, 2, "mask");
      i->addIncoming(B.getInt64(0), block_head);
      mask->addIncoming(B.getInt64(0), block_head);
      Value* r = B.CreateCall(lane_scan, {cols, env, B.CreateAdd(base, i), ConstantPointerNull::get(PointerType::get(C, 0))});
      Value* bit = B.CreateShl(B.CreateZExt(r, i64), i);
      Value* next_mask = B.CreateOr(mask, bit);
      Value* next_i = B.CreateAdd(i, B.getInt64(1));
      i->addIncoming(next_i, lane_head);
      mask->addIncoming(next_mask, lane_head);
      B.CreateCondBr(B.CreateICmpULT(next_i, lanes), lane_head, block_end);
      B.SetInsertPoint(block_end);
      B.CreateStore(next_mask, B.CreateGEP(i64, out, blk));
      Value* next_blk = B.CreateAdd(blk, B.getInt64(1));
      blk->addIncoming(next_blk, block_end);
      B.CreateCondBr(B.CreateICmpULT(next_blk, nblocks), block_head, done);
      B.SetInsertPoint(done);
      B.CreateRetVoid();
    }
  }

 private:
  LLVMContext& C;
  Module& M;
  IRBuilder<> B;
  const ir::Schema& schema_;
  rt::SlotLayout L;
  Type *i1, *i8, *i16, *i32, *i64, *ptr;
  Function *f_contains_, *f_starts_, *f_texteq_, *f_month_, *f_day_, *f_weekday_, *f_local_days_, *f_local_minute_;
  Value* empty_;
  Value *cols_ = nullptr, *env_ = nullptr, *row_ = nullptr, *event_ = nullptr;

  void attrs(Function* f, const std::string& cpu, const std::string& features) {
    f->addFnAttr("target-cpu", cpu);
    f->addFnAttr("target-features", features);
    f->addFnAttr(Attribute::NoUnwind);
  }

  Value* slot(std::uint32_t k) { return B.CreateLoad(ptr, B.CreateGEP(ptr, cols_, B.getInt64(k))); }
  Value* elem(Type* t, std::uint32_t k) { return B.CreateLoad(t, B.CreateGEP(t, slot(k), row_)); }
  Value* bit(std::uint32_t k) {
    Value* w = B.CreateLoad(i64, B.CreateGEP(i64, slot(k), B.CreateLShr(row_, 6)));
    return B.CreateTrunc(B.CreateLShr(w, B.CreateAnd(row_, 63)), i1);
  }
  Value* env_field(int i) {
    Type* t = i == 2 ? static_cast<Type*>(ptr) : i64;
    return B.CreateLoad(t, B.CreateGEP(i64, env_, B.getInt64(static_cast<std::uint64_t>(i))));
  }
  V known_int(Value* v, Value* known) { return V{v, known, nullptr, nullptr}; }
  V boolean(Value* b) { return V{b, B.getTrue(), nullptr, nullptr}; }
  V text_from_id(Value* id32, Value* known) {
    Value* idx = B.CreateSelect(known, B.CreateSExt(id32, i64), B.getInt64(0));
    Value* p = B.CreateLoad(ptr, B.CreateGEP(ptr, slot(rt::SlotLayout::kTextPtrs), idx));
    Value* n = B.CreateLoad(i64, B.CreateGEP(i64, slot(rt::SlotLayout::kTextLens), idx));
    // With an empty pool nothing is known, so idx 0 is never read; keep the pointers valid anyway.
    return V{nullptr, known, B.CreateSelect(known, p, empty_), B.CreateSelect(known, n, B.getInt64(0))};
  }
  Value* guard(const V& x) { return B.CreateSelect(x.known, x.v, B.getInt64(0)); }

  Function* lane(const ir::Predicate& p, const std::string& name, bool with_event, const std::string& cpu,
                 const std::string& features) {
    auto* f = Function::Create(FunctionType::get(i1, {ptr, ptr, i64, ptr}, false), Function::InternalLinkage, name, M);
    attrs(f, cpu, features);
    f->addFnAttr(Attribute::AlwaysInline);
    B.SetInsertPoint(BasicBlock::Create(C, "entry", f));
    cols_ = f->getArg(0);
    env_ = f->getArg(1);
    row_ = f->getArg(2);
    event_ = with_event ? f->getArg(3) : nullptr;
    std::vector<V> vals(p.nodes.size());
    if (with_event || short_circuit_) {
      // Per-event code: `and`/`or` skip their right side, so a friend who fails
      // the first clause costs one column read.
      B.CreateRet(gen(p, p.root(), vals).v);
    } else {
      // Scan code: straight-line and branch-free, which the vectorizer widens.
      for (std::size_t i = 0; i < p.nodes.size(); ++i) vals[i] = node(p, i, vals);
      B.CreateRet(vals[p.root()].v);
    }
    return f;
  }

  bool short_circuit_ = false;

  V gen(const ir::Predicate& p, std::uint32_t idx, std::vector<V>& vals) {
    const ir::Node& n = p.nodes[idx];
    if (n.op == ir::Op::And || n.op == ir::Op::Or) {
      const V l = gen(p, n.kids[0], vals);
      Function* f = B.GetInsertBlock()->getParent();
      BasicBlock* lhs_end = B.GetInsertBlock();
      auto* rhs_bb = BasicBlock::Create(C, n.op == ir::Op::And ? "and.rhs" : "or.rhs", f);
      auto* merge = BasicBlock::Create(C, "merge", f);
      if (n.op == ir::Op::And) {
        B.CreateCondBr(l.v, rhs_bb, merge);
      } else {
        B.CreateCondBr(l.v, merge, rhs_bb);
      }
      B.SetInsertPoint(rhs_bb);
      const V r = gen(p, n.kids[1], vals);
      BasicBlock* rhs_end = B.GetInsertBlock();
      B.CreateBr(merge);
      B.SetInsertPoint(merge);
      PHINode* phi = B.CreatePHI(i1, 2);
      phi->addIncoming(B.getInt1(n.op == ir::Op::Or), lhs_end);
      phi->addIncoming(r.v, rhs_end);
      vals[idx] = boolean(phi);
      return vals[idx];
    }
    for (int k = 0; k < n.nkids; ++k) vals[n.kids[k]] = gen(p, n.kids[k], vals);
    vals[idx] = node(p, idx, vals);
    return vals[idx];
  }

  V node(const ir::Predicate& p, std::size_t idx, const std::vector<V>& vals) {
    using ir::Op;
    const ir::Node& n = p.nodes[idx];
    const V* k0 = n.nkids > 0 ? &vals[n.kids[0]] : nullptr;
    const V* k1 = n.nkids > 1 ? &vals[n.kids[1]] : nullptr;
    const V* k2 = n.nkids > 2 ? &vals[n.kids[2]] : nullptr;
    switch (n.op) {
      case Op::ConstBool:
        return boolean(B.getInt1(n.b != 0));
      case Op::ConstInt:
        return known_int(B.getInt64(static_cast<std::uint64_t>(n.b)), B.getTrue());
      case Op::ConstText: {
        Value* g = B.CreateGlobalString(n.text, "okuri.text", 0, &M);
        return V{nullptr, B.getTrue(), g, B.getInt64(n.text.size())};
      }
      case Op::Attr:
        return attr(static_cast<ir::Attr>(n.a));
      case Op::Field: {
        if (n.a < 0) return known_int(B.getInt64(0), B.getFalse());
        Value* known = bit(L.field_known(n.a));
        Value* v = elem(i64, L.field_values(n.a));
        if (n.type == ir::VType::Bool) return boolean(B.CreateAnd(known, B.CreateICmpNE(v, B.getInt64(0))));
        if (n.type == ir::VType::Text) return text_from_id(B.CreateTrunc(v, i32), known);
        return known_int(v, known);
      }
      case Op::NamedScore:
        if (n.a < 0) return known_int(B.getInt64(0), B.getTrue());
        return known_int(elem(i64, L.named_score(n.a)), B.getTrue());
      case Op::Tagged:
        return boolean(n.a < 0 ? B.getFalse() : bit(L.tag(n.a)));
      case Op::InAudience:
        return boolean(n.a < 0 ? B.getFalse() : bit(L.audience(n.a)));
      case Op::Visited:
        return boolean(n.a < 0 || static_cast<std::size_t>(n.a) >= schema_.visit_patterns.size() ? B.getFalse() : bit(L.visit(n.a)));
      case Op::Clicked:
      case Op::Opened: {
        if (n.a < 0) return boolean(B.getFalse());
        const bool click = n.op == Op::Clicked;
        Value* count = elem(i32, click ? L.link_clicks(n.a) : L.msg_opened(n.a));
        Value* yes = B.CreateICmpUGT(count, B.getInt32(0));
        if (n.b != 0) {
          Value* last = elem(i64, click ? L.link_last(n.a) : L.msg_last_opened(n.a));
          Value* since = B.CreateSub(env_field(0), B.getInt64(static_cast<std::uint64_t>(n.b)));
          yes = B.CreateAnd(yes, B.CreateICmpSGE(last, since));
        }
        return boolean(yes);
      }
      case Op::Clicks:
        if (n.a < 0) return known_int(B.getInt64(0), B.getTrue());
        return known_int(B.CreateZExt(elem(i32, L.link_clicks(n.a)), i64), B.getTrue());
      case Op::Sent:
        if (n.a < 0) return boolean(B.getFalse());
        return boolean(B.CreateICmpUGT(elem(i32, L.msg_sent(n.a)), B.getInt32(0)));
      case Op::EventField: {
        if (event_ == nullptr || n.a < 0) {
          if (n.type == ir::VType::Bool) return boolean(B.getFalse());
          return V{B.getInt64(0), B.getFalse(), empty_, B.getInt64(0)};
        }
        auto field = [&](int k) { return B.CreateLoad(ptr, B.CreateGEP(ptr, event_, B.getInt64(static_cast<std::uint64_t>(k)))); };
        const auto a = B.getInt64(static_cast<std::uint64_t>(n.a));
        Value* v = B.CreateLoad(i64, B.CreateGEP(i64, field(0), a));
        Value* known = B.CreateICmpNE(B.CreateLoad(i8, B.CreateGEP(i8, field(1), a)), B.getInt8(0));
        if (n.type == ir::VType::Bool) return boolean(B.CreateAnd(known, B.CreateICmpNE(v, B.getInt64(0))));
        Value* tp = B.CreateLoad(ptr, B.CreateGEP(ptr, field(2), a));
        Value* tl = B.CreateLoad(i64, B.CreateGEP(i64, field(3), a));
        return V{v, known, tp, tl};
      }
      case Op::Known:
        if (p.nodes[n.kids[0]].type == ir::VType::Bool) return boolean(B.getTrue());
        return boolean(k0->known);
      case Op::LocalDays:
        return known_int(B.CreateCall(f_local_days_, {guard(*k0), env_field(2)}), k0->known);
      case Op::Month:
        return known_int(B.CreateCall(f_month_, {guard(*k0)}), k0->known);
      case Op::Day:
        return known_int(B.CreateCall(f_day_, {guard(*k0)}), k0->known);
      case Op::Weekday:
        return known_int(B.CreateCall(f_weekday_, {guard(*k0)}), k0->known);
      case Op::HourOfTime:
        return known_int(B.CreateSDiv(k0->v, B.getInt64(60)), k0->known);
      case Op::HourOfDateTime:
        return known_int(B.CreateSDiv(B.CreateCall(f_local_minute_, {guard(*k0), env_field(2)}), B.getInt64(60)), k0->known);
      case Op::Contains:
      case Op::StartsWith:
      case Op::TextEq: {
        Function* fn = n.op == Op::Contains ? f_contains_ : n.op == Op::StartsWith ? f_starts_ : f_texteq_;
        Value* both = B.CreateAnd(k0->known, k1->known);
        Value* r = B.CreateICmpNE(B.CreateCall(fn, {k0->ptr, k0->len, k1->ptr, k1->len}), B.getInt32(0));
        if (n.op == Op::TextEq && n.a != 0) r = B.CreateNot(r);
        return boolean(B.CreateAnd(both, r));
      }
      case Op::Has: {
        if (n.b < 0 || n.b >= 64) return boolean(B.getFalse());
        Value* b = B.CreateTrunc(B.CreateLShr(k0->v, B.getInt64(static_cast<std::uint64_t>(n.b))), i1);
        return boolean(B.CreateAnd(k0->known, b));
      }
      case Op::Cmp: {
        Value* r = nullptr;
        switch (static_cast<ir::CmpOp>(n.a)) {
          case ir::CmpOp::Eq:
            r = B.CreateICmpEQ(k0->v, k1->v);
            break;
          case ir::CmpOp::Ne:
            r = B.CreateICmpNE(k0->v, k1->v);
            break;
          case ir::CmpOp::Lt:
            r = B.CreateICmpSLT(k0->v, k1->v);
            break;
          case ir::CmpOp::Le:
            r = B.CreateICmpSLE(k0->v, k1->v);
            break;
          case ir::CmpOp::Gt:
            r = B.CreateICmpSGT(k0->v, k1->v);
            break;
          case ir::CmpOp::Ge:
            r = B.CreateICmpSGE(k0->v, k1->v);
            break;
        }
        return boolean(B.CreateAnd(B.CreateAnd(k0->known, k1->known), r));
      }
      case Op::InRange: {
        Value* in = B.CreateAnd(B.CreateICmpSLE(k1->v, k0->v), B.CreateICmpSLE(k0->v, k2->v));
        if (n.a != 0) in = B.CreateNot(in);
        return boolean(B.CreateAnd(B.CreateAnd(k0->known, B.CreateAnd(k1->known, k2->known)), in));
      }
      case Op::InSet: {
        Value* in = B.getFalse();
        if (n.mask != 0) {
          Value* ok = B.CreateICmpULT(k0->v, B.getInt64(64));
          Value* sh = B.CreateSelect(ok, k0->v, B.getInt64(0));
          Value* b = B.CreateTrunc(B.CreateLShr(B.getInt64(n.mask), sh), i1);
          in = B.CreateAnd(ok, b);
        } else {
          for (auto x : n.ints) in = B.CreateOr(in, B.CreateICmpEQ(k0->v, B.getInt64(static_cast<std::uint64_t>(x))));
        }
        if (n.a != 0) in = B.CreateNot(in);
        return boolean(B.CreateAnd(k0->known, in));
      }
      case Op::And:
        return boolean(B.CreateAnd(k0->v, k1->v));
      case Op::Or:
        return boolean(B.CreateOr(k0->v, k1->v));
      case Op::Not:
        return boolean(B.CreateNot(k0->v));
      case Op::Add:
        return known_int(B.CreateAdd(k0->v, k1->v), B.CreateAnd(k0->known, k1->known));
      case Op::Sub:
        return known_int(B.CreateSub(k0->v, k1->v), B.CreateAnd(k0->known, k1->known));
      case Op::Neg:
        return known_int(B.CreateSub(B.getInt64(0), k0->v), k0->known);
      case Op::Scale: {
        Value* d = B.getInt64(static_cast<std::uint64_t>(n.b));
        Value* q = B.CreateSDiv(k0->v, d);
        Value* r = B.CreateSRem(k0->v, d);
        Value* adj = B.CreateAnd(B.CreateICmpNE(r, B.getInt64(0)),
                                 B.CreateICmpNE(B.CreateICmpSLT(k0->v, B.getInt64(0)), B.getInt1(n.b < 0)));
        return known_int(B.CreateSub(q, B.CreateZExt(adj, i64)), k0->known);
      }
      case Op::Mul:
        return known_int(B.CreateMul(k0->v, B.getInt64(static_cast<std::uint64_t>(n.b))), k0->known);
    }
    return boolean(B.getFalse());
  }

  V attr(ir::Attr a) {
    switch (a) {
      case ir::Attr::Gender:
      case ir::Attr::Region: {
        Value* g = B.CreateZExt(elem(i8, a == ir::Attr::Gender ? rt::SlotLayout::kGender : rt::SlotLayout::kRegion), i64);
        return known_int(B.CreateSub(g, B.getInt64(1)), B.CreateICmpNE(g, B.getInt64(0)));
      }
      case ir::Attr::Age: {
        Value* v = B.CreateSExt(elem(i16, rt::SlotLayout::kAge), i64);
        return known_int(v, B.CreateICmpNE(v, B.getInt64(static_cast<std::uint64_t>(std::int64_t{rt::kUnknownAge}))));
      }
      case ir::Attr::FriendDays: {
        Value* s = B.CreateSExt(elem(i32, rt::SlotLayout::kFriendSince), i64);
        Value* known = B.CreateICmpNE(s, B.getInt64(static_cast<std::uint64_t>(std::int64_t{rt::kUnknownDays})));
        return known_int(B.CreateSub(env_field(1), s), known);
      }
      case ir::Attr::Source:
      case ir::Attr::DisplayName:
      case ir::Attr::Language: {
        const auto k = a == ir::Attr::Source ? rt::SlotLayout::kSource
                       : a == ir::Attr::DisplayName ? rt::SlotLayout::kDisplayName
                                                    : rt::SlotLayout::kLanguage;
        Value* id = elem(i32, k);
        return text_from_id(id, B.CreateICmpSGE(id, B.getInt32(0)));
      }
      case ir::Attr::Blocked:
        return boolean(bit(rt::SlotLayout::kBlocked));
      case ir::Attr::Score:
        return known_int(elem(i64, rt::SlotLayout::kScore), B.getTrue());
      case ir::Attr::Today:
        return known_int(env_field(1), B.getTrue());
      case ir::Attr::Now:
        return known_int(env_field(0), B.getTrue());
    }
    return boolean(B.getFalse());
  }
};

void optimize(Module& m, TargetMachine* tm) {
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb(tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // A light pipeline: inline the lane into scan and row, clean up, and let the
  // loop vectorizer widen the 64-lane loop. Full O2 costs ten times the compile
  // time and did not scan faster in bench/predicate_bench.cpp.
  ModulePassManager mpm;
  mpm.addPass(AlwaysInlinerPass());
  FunctionPassManager fpm;
  fpm.addPass(EarlyCSEPass(true));
  fpm.addPass(InstCombinePass());
  fpm.addPass(SimplifyCFGPass());
  fpm.addPass(LoopSimplifyPass());
  fpm.addPass(LCSSAPass());
  fpm.addPass(createFunctionToLoopPassAdaptor(LICMPass(LICMOptions()), /*UseMemorySSA=*/true));
  fpm.addPass(LoopVectorizePass());
  fpm.addPass(InstCombinePass());
  fpm.addPass(SimplifyCFGPass());
  mpm.addPass(createModuleToFunctionPassAdaptor(std::move(fpm)));
  mpm.run(m, mam);
}

}  // namespace

struct Jit::Impl {
  std::string cache_dir;
  std::string cpu;
  std::string features;
  std::string triple;
  std::unique_ptr<DiskCache> cache;
  std::unique_ptr<orc::LLJIT> jits[2];
  std::map<std::string, orc::ResourceTrackerSP> groups;
  std::mutex mu;

  orc::LLJIT& jit(Tier tier) {
    auto& j = jits[tier == Tier::Baseline ? 0 : 1];
    if (j) return *j;
    auto jtmb = check(orc::JITTargetMachineBuilder::detectHost(), "detect host");
    jtmb.setCPU(cpu);
    jtmb.getFeatures() = SubtargetFeatures(features);
    jtmb.setCodeGenOptLevel(tier == Tier::Baseline ? CodeGenOptLevel::None : CodeGenOptLevel::Less);
    DiskCache* c = cache.get();
    orc::LLJITBuilder builder;
    builder.setJITTargetMachineBuilder(jtmb);
    builder.setCompileFunctionCreator([c](orc::JITTargetMachineBuilder b) -> Expected<std::unique_ptr<orc::IRCompileLayer::IRCompiler>> {
      auto tm = b.createTargetMachine();
      if (!tm) return tm.takeError();
      return std::make_unique<orc::TMOwningSimpleCompiler>(std::move(*tm), c);
    });
    j = check(builder.create(), "create LLJIT");
    auto& jd = j->getMainJITDylib();
    orc::MangleAndInterner mangle(j->getExecutionSession(), j->getDataLayout());
    orc::SymbolMap syms;
    auto add = [&](const char* name, void* fn) {
      syms[mangle(name)] = orc::ExecutorSymbolDef(orc::ExecutorAddr::fromPtr(fn), JITSymbolFlags::Exported);
    };
    add("okuri_std_contains", reinterpret_cast<void*>(&okuri_std_contains));
    add("okuri_std_starts_with", reinterpret_cast<void*>(&okuri_std_starts_with));
    add("okuri_std_text_eq", reinterpret_cast<void*>(&okuri_std_text_eq));
    add("okuri_std_month", reinterpret_cast<void*>(&okuri_std_month));
    add("okuri_std_day", reinterpret_cast<void*>(&okuri_std_day));
    add("okuri_std_weekday", reinterpret_cast<void*>(&okuri_std_weekday));
    add("okuri_std_local_days", reinterpret_cast<void*>(&okuri_std_local_days));
    add("okuri_std_local_minute", reinterpret_cast<void*>(&okuri_std_local_minute));
    if (auto e = jd.define(orc::absoluteSymbols(std::move(syms)))) fail("define stdlib", std::move(e));
    return *j;
  }
};

Jit::Jit(JitOptions options) : impl_(std::make_unique<Impl>()) {
  static std::once_flag init;
  std::call_once(init, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
  });
  impl_->cache_dir = options.cache_dir;
  impl_->cache = std::make_unique<DiskCache>(options.cache_dir);
  impl_->cpu = sys::getHostCPUName().str();
  SubtargetFeatures f;
  for (const auto& [name, on] : sys::getHostCPUFeatures()) f.AddFeature(name, on);
  impl_->features = f.getString();
  impl_->triple = sys::getProcessTriple();
}

Jit::~Jit() = default;

std::string Jit::target() const { return impl_->triple + " cpu=" + impl_->cpu + " " + impl_->features; }

CompiledGroup Jit::compile(const std::string& group, const std::vector<ir::Predicate>& preds, const ir::Schema& schema, Tier tier) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const auto t0 = std::chrono::steady_clock::now();
  // Cache key: the IR, the layout it binds to, the stdlib ABI, the target and LLVM's version.
  std::string key_text = std::to_string(stdlib::kAbiVersion) + "|" + LLVM_VERSION_STRING + "|" + target() + "|" +
                         std::to_string(static_cast<int>(tier)) + "|";
  const rt::SlotLayout layout(schema);
  key_text += std::to_string(layout.total) + "/" + std::to_string(layout.fields) + "/" + std::to_string(layout.links) + "|";
  for (const auto& p : preds) key_text += ir::print(p);
  char key[40];
  std::snprintf(key, sizeof key, "okuri_%016llx", static_cast<unsigned long long>(fnv(key_text)));
  orc::LLJIT& j = impl_->jit(tier);
  remove(group);
  auto rt_tracker = j.getMainJITDylib().createResourceTracker();
  CompiledGroup out;
  const std::string cached = impl_->cache_dir.empty() ? std::string() : impl_->cache_dir + "/" + key + ".o";
  std::error_code ec;
  if (!cached.empty() && fs::exists(cached, ec)) {
    auto buf = MemoryBuffer::getFile(cached);
    if (buf) {
      if (auto e = j.addObjectFile(rt_tracker, std::move(*buf))) fail("load cached object", std::move(e));
      out.from_cache = true;
    }
  }
  if (!out.from_cache) {
    auto ctx = std::make_unique<LLVMContext>();
    auto mod = std::make_unique<Module>(key, *ctx);
    mod->setDataLayout(j.getDataLayout());
    mod->setTargetTriple(impl_->triple);
    Codegen cg(*ctx, *mod, schema);
    for (std::size_t i = 0; i < preds.size(); ++i) {
      cg.generate(preds[i], std::string(key) + "_" + std::to_string(i), impl_->cpu, impl_->features, tier == Tier::Optimized);
    }
    std::string err;
    raw_string_ostream es(err);
    if (verifyModule(*mod, &es)) throw std::runtime_error("JIT: generated code does not verify: " + es.str());
    if (tier == Tier::Optimized) {
      auto jtmb = check(orc::JITTargetMachineBuilder::detectHost(), "detect host");
      jtmb.setCPU(impl_->cpu);
      jtmb.getFeatures() = SubtargetFeatures(impl_->features);
      auto tm = check(jtmb.createTargetMachine(), "target machine");
      optimize(*mod, tm.get());
    }
    if (auto e = j.addIRModule(rt_tracker, orc::ThreadSafeModule(std::move(mod), std::move(ctx)))) fail("add module", std::move(e));
  }
  for (std::size_t i = 0; i < preds.size(); ++i) {
    const std::string base = std::string(key) + "_" + std::to_string(i);
    out.scan.push_back(check(j.lookup(base + "_scan"), "look up " + base).toPtr<rt::ScanFn>());
    out.row.push_back(check(j.lookup(base + "_row"), "look up " + base).toPtr<rt::RowFn>());
  }
  impl_->groups[group] = rt_tracker;
  out.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

void Jit::remove(const std::string& group) {
  auto it = impl_->groups.find(group);
  if (it == impl_->groups.end()) return;
  if (auto e = it->second->remove()) fail("remove " + group, std::move(e));
  impl_->groups.erase(it);
}

}  // namespace okuri::jit
