// LLVM code generation for the predicate IR, compiled with LLJIT. The only
// translation unit that includes LLVM.
//
// Per predicate: `scan` evaluates the predicate over the friends 64 at a time
// as explicit vector code (every node a value per lane, comparisons giving
// masks, tag bitmaps read as the block's 64-bit word) and stores one 64-bit
// mask per block; `row` evaluates it for one friend with scalar code (`lane`)
// whose `and`/`or` branch. Predicates with a node that has no vector form (text,
// calls into the stdlib) scan with the old loop over the scalar `lane`.
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
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>

#include <bit>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "stdlib/functions.hpp"

namespace okuri::jit {

namespace fs = std::filesystem;
using namespace llvm;

bool Jit::available() { return true; }

namespace {
// Part of the object cache's key: bump it when the generated code changes shape, so that
// objects cached by an older generator are not loaded (2: the vector scan).
constexpr int kCodegenVersion = 3;
}  // namespace

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
    cpu_ = cpu;
    features_ = features;
    // 64 lanes where masks of 64 lanes are registers (AVX-512 BW), else chunks of 32.
    lanes_ = features.find("+avx512bw") != std::string::npos ? 64 : 32;
    const bool vec = vector_form(p);
    Function* lane_scan = vec ? nullptr : lane(p, name + "_lane_scan", false, cpu, features);
    // row(cols, env, row, event) -> i8. Tier 1 compiles as little as it can: for a predicate
    // scanned by the lane loop, the row form calls the scan lane unless it reads the event;
    // otherwise the row function is the short-circuiting lane itself (no call).
    auto* rowf = Function::Create(FunctionType::get(i8, {ptr, ptr, i64, ptr}, false), Function::ExternalLinkage, name + "_row", M);
    attrs(rowf, cpu, features);
    if (vec || separate_row_lane || p.uses_event()) {
      short_circuit_ = true;
      lane_code(p, rowf, p.uses_event());
      short_circuit_ = false;
    } else {
      B.SetInsertPoint(BasicBlock::Create(C, "entry", rowf));
      auto* r = B.CreateCall(lane_scan, {rowf->getArg(0), rowf->getArg(1), rowf->getArg(2), rowf->getArg(3)});
      B.CreateRet(B.CreateZExt(r, i8));
    }
    if (vec) {
      vector_scan(p, name, rowf);
      return;
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

  // ---- The vector scan -------------------------------------------------------
  //
  // The scan's loop body computes the predicate for the 64 friends base …
  // base+63 as vector code: every node is a value per lane (`<N x iW>` for
  // integers, with a mask of the lanes where it is known; a mask for booleans),
  // over chunks of N lanes (N = 64 where the target has 64-bit mask registers,
  // else 32). Integers stay as narrow as their column while they are compared
  // with constants that fit (age as i16, clicks as i32); a constant that does
  // not fit decides the comparison alone. Tag bitmaps are the block's word;
  // boolean operators stay in the vector domain while both sides are vectors
  // and otherwise work on words, so a bitmap is never spread into a vector.
  // The three-valued logic is the interpreter's: a comparison is false on the
  // lanes where an operand is unknown, `not` flips only the boolean.

  // A boolean over the chunk's lanes: a constant, a vector of i1 or an iN word.
  struct Mask {
    enum Kind : std::uint8_t { Const, Vec, Word } kind = Const;
    bool c = false;
    Value* v = nullptr;
  };
  // An integer over the chunk's lanes: `v` is `<N x iW>` (extended to i64 by
  // sign or zero), or null for the constant `c`; `known` its known lanes.
  struct VI {
    Value* v = nullptr;
    unsigned w = 64;
    bool sext = true;
    std::int64_t c = 0;
    Mask known;
  };
  struct VN {
    Mask b;
    VI i;
  };

  unsigned lanes_ = 64;  // lanes per chunk
  unsigned chunk_ = 0;
  Value *vcols_ = nullptr, *venv_ = nullptr, *vbase_ = nullptr, *vcbase_ = nullptr;
  Value *vnow_ = nullptr, *vtoday_ = nullptr;
  std::map<std::uint32_t, Value*> vslots_;       // column pointers, loaded once per block
  std::map<std::uint32_t, Value*> vwords_;       // bitmap words of the block
  std::map<std::uint32_t, Value*> vloads_;       // column loads of the chunk

  static Mask mconst(bool c) { return Mask{Mask::Const, c, nullptr}; }
  static Mask mvec(Value* v) { return Mask{Mask::Vec, false, v}; }
  static Mask mword(Value* v) { return Mask{Mask::Word, false, v}; }
  static VI vconst(std::int64_t c, Mask known) { return VI{nullptr, 64, true, c, known}; }

  Type* vt(Type* e) { return FixedVectorType::get(e, lanes_); }
  Type* wordty() { return Type::getIntNTy(C, lanes_); }
  Value* splat(Value* x) { return B.CreateVectorSplat(lanes_, x); }
  Value* splat_int(unsigned w, std::int64_t c) {
    return splat(ConstantInt::get(Type::getIntNTy(C, w), static_cast<std::uint64_t>(c), /*isSigned=*/true));
  }

  Value* as_vec(const Mask& m) {
    if (m.kind == Mask::Vec) return m.v;
    if (m.kind == Mask::Word) return B.CreateBitCast(m.v, vt(i1));
    return splat(B.getInt1(m.c));
  }
  Value* as_word(const Mask& m) {
    if (m.kind == Mask::Word) return m.v;
    if (m.kind == Mask::Vec) return B.CreateBitCast(m.v, wordty());
    return m.c ? Constant::getAllOnesValue(wordty()) : Constant::getNullValue(wordty());
  }
  Mask mand(const Mask& a, const Mask& b) {
    if (a.kind == Mask::Const) return a.c ? b : a;
    if (b.kind == Mask::Const) return b.c ? a : b;
    if (a.kind == Mask::Vec && b.kind == Mask::Vec) return mvec(B.CreateAnd(as_vec(a), as_vec(b)));
    return mword(B.CreateAnd(as_word(a), as_word(b)));
  }
  Mask mor(const Mask& a, const Mask& b) {
    if (a.kind == Mask::Const) return a.c ? a : b;
    if (b.kind == Mask::Const) return b.c ? b : a;
    if (a.kind == Mask::Vec && b.kind == Mask::Vec) return mvec(B.CreateOr(as_vec(a), as_vec(b)));
    return mword(B.CreateOr(as_word(a), as_word(b)));
  }
  Mask mnot(const Mask& a) {
    if (a.kind == Mask::Const) return mconst(!a.c);
    if (a.kind == Mask::Vec) return mvec(B.CreateNot(a.v));
    return mword(B.CreateNot(a.v));
  }

  Value* wide(const VI& x) {
    if (x.v == nullptr) return splat_int(64, x.c);
    if (x.w == 64) return x.v;
    return x.sext ? B.CreateSExt(x.v, vt(i64)) : B.CreateZExt(x.v, vt(i64));
  }
  VI wide_int(Value* v, Mask known) { return VI{v, 64, true, 0, known}; }

  Value* vslot(std::uint32_t k) {
    auto it = vslots_.find(k);
    if (it != vslots_.end()) return it->second;
    Value* v = B.CreateLoad(ptr, B.CreateGEP(ptr, vcols_, B.getInt64(k)));
    vslots_[k] = v;
    return v;
  }
  // The chunk's elements of a column: one (unaligned) vector load.
  Value* vload_at(Type* t, Value* col) {
    return B.CreateAlignedLoad(vt(t), B.CreateGEP(t, col, vcbase_), Align(t->getIntegerBitWidth() / 8));
  }
  // The chunk's bits of a bitmap column: the block's word (or a part of it).
  Value* vword_at(Value* col) { return B.CreateLoad(i64, B.CreateGEP(i64, col, B.CreateLShr(vbase_, 6))); }
  Mask chunk_bits(Value* w) {
    if (lanes_ == 64) return mword(w);
    return mword(B.CreateTrunc(B.CreateLShr(w, B.getInt64(static_cast<std::uint64_t>(chunk_) * lanes_)), wordty()));
  }
  Value* vload(Type* t, std::uint32_t k) {
    auto it = vloads_.find(k);
    if (it != vloads_.end()) return it->second;
    Value* v = vload_at(t, vslot(k));
    vloads_[k] = v;
    return v;
  }
  Mask vbits(std::uint32_t k) {
    Value* w = nullptr;
    if (auto it = vwords_.find(k); it != vwords_.end()) {
      w = it->second;
    } else {
      w = vword_at(vslot(k));
      vwords_[k] = w;
    }
    return chunk_bits(w);
  }

  // ---- Shared code for subtrees of the same shape ---------------------------
  //
  // Segments written from one pattern (and their copies inlined into other
  // segments) differ only in constants and in the columns they read. A subtree
  // whose shape occurs more than once in the group is generated once, as
  // `i64 shape(cols, env, base, params)` reading its constants and column slots
  // from `params`, and each occurrence calls it with its own constant array.
  // The shape key keeps everything code generation decides on (operators,
  // types, the width class of every constant), so one body is right for all.

  Value* vparams_ = nullptr;  // in a shape body: the occurrence's parameters
  unsigned pnext_ = 0;
  std::map<std::string, int> shape_count_;
  std::map<std::string, Function*> shapes_;
  std::string cpu_, features_;

  static bool fits(std::int64_t c, std::int64_t lo, std::int64_t hi) { return c >= lo && c <= hi; }
  // The width a constant is compared in: i16 (sign), i32 (zero) or i64.
  static char width_class(std::int64_t c) {
    if (fits(c, rt::kNarrowMin, rt::kNarrowMax)) return 'b';  // also fits the scan columns of age and score
    if (fits(c, -32768, 32767)) return 's';
    if (fits(c, 0, 0xffffffffll)) return 'u';
    return 'w';
  }

  // The parameters of one node, in the order its code reads them.
  void node_params(const ir::Node& n, std::vector<std::int64_t>& out) const {
    using ir::Op;
    switch (n.op) {
      case Op::ConstInt:
        out.push_back(n.b);
        break;
      case Op::Field:
        if (n.a >= 0) {
          out.push_back(L.field_known(n.a));
          out.push_back(L.field_values(n.a));
        }
        break;
      case Op::NamedScore:
        if (n.a >= 0) out.push_back(L.named_score(n.a));
        break;
      case Op::Tagged:
        if (n.a >= 0) out.push_back(L.tag(n.a));
        break;
      case Op::InAudience:
        if (n.a >= 0) out.push_back(L.audience(n.a));
        break;
      case Op::Visited:
        if (n.a >= 0 && static_cast<std::size_t>(n.a) < schema_.visit_patterns.size()) out.push_back(L.visit(n.a));
        break;
      case Op::Clicked:
      case Op::Opened:
        if (n.a >= 0) {
          const bool click = n.op == Op::Clicked;
          out.push_back(click ? L.link_clicks(n.a) : L.msg_opened(n.a));
          if (n.b != 0) {
            out.push_back(click ? L.link_last(n.a) : L.msg_last_opened(n.a));
            out.push_back(n.b);
          }
        }
        break;
      case Op::Clicks:
        if (n.a >= 0) out.push_back(L.link_clicks(n.a));
        break;
      case Op::Sent:
        if (n.a >= 0) out.push_back(L.msg_sent(n.a));
        break;
      case Op::Has:
        if (n.b >= 0 && n.b < 64) out.push_back(static_cast<std::int64_t>(std::uint64_t{1} << n.b));
        break;
      case Op::InSet:
        if (n.mask != 0 && std::popcount(n.mask) > 8) {
          out.push_back(static_cast<std::int64_t>(n.mask));
        } else if (n.mask != 0) {
          for (int b = 0; b < 64; ++b) {
            if (((n.mask >> b) & 1) != 0) out.push_back(b);
          }
        } else {
          for (auto x : n.ints) out.push_back(x);
        }
        break;
      default:
        break;
    }
  }
  // What code generation decides on, for one node (its kids' keys come first).
  std::string node_key(const ir::Node& n) const {
    using ir::Op;
    std::string k = std::to_string(static_cast<int>(n.op)) + "." + std::to_string(static_cast<int>(n.type)) + "." +
                    std::to_string(n.nkids);
    switch (n.op) {
      case Op::ConstInt:
        k += width_class(n.b);
        break;
      case Op::Attr:
      case Op::Cmp:
        k += "a" + std::to_string(n.a);
        break;
      case Op::InRange:
        k += "a" + std::to_string(n.a);
        break;
      case Op::Field:
      case Op::NamedScore:
      case Op::Tagged:
      case Op::InAudience:
      case Op::Clicks:
      case Op::Sent:
        k += n.a < 0 ? "x" : "";
        break;
      case Op::Visited:
        k += n.a < 0 || static_cast<std::size_t>(n.a) >= schema_.visit_patterns.size() ? "x" : "";
        break;
      case Op::Clicked:
      case Op::Opened:
        k += n.a < 0 ? "x" : (n.b != 0 ? "w" : "");
        break;
      case Op::Has:
        k += n.b >= 0 && n.b < 64 ? "" : "x";
        break;
      case Op::InSet:
        k += "a" + std::to_string(n.a);
        if (n.mask != 0 && std::popcount(n.mask) > 8) {
          k += "m";
        } else if (n.mask != 0) {
          k += "b" + std::to_string(std::popcount(n.mask));
        } else {
          k += "i";
          for (auto x : n.ints) k += width_class(x);
        }
        break;
      case Op::Scale:
      case Op::Mul:
        k += "b" + std::to_string(n.b);
        break;
      default:
        break;
    }
    return k + ";";
  }

  struct Shapes {
    std::vector<std::string> key;
    std::vector<std::uint32_t> size;
    std::vector<std::uint32_t> parents;
  };
  Shapes shapes_of(const ir::Predicate& p) const {
    Shapes s;
    const std::size_t n = p.nodes.size();
    s.key.resize(n);
    s.size.assign(n, 1);
    s.parents.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const ir::Node& nd = p.nodes[i];
      std::string k;
      for (int j = 0; j < nd.nkids; ++j) {
        k += s.key[nd.kids[j]];
        s.size[i] += s.size[nd.kids[j]];
        ++s.parents[nd.kids[j]];
      }
      // Only subtrees of up to 256 nodes get a key (and may be shared), so that the keys of a
      // long chain of `or` stay small.
      if (s.size[i] <= 256) s.key[i] = k + node_key(nd);
    }
    return s;
  }
  static constexpr std::uint32_t kMinShared = 4;  // nodes
  bool eligible(const ir::Predicate& p, const Shapes& s, std::uint32_t i) const {
    if (p.nodes[i].type != ir::VType::Bool || s.size[i] < kMinShared || s.key[i].empty()) return false;
    auto it = shape_count_.find(s.key[i]);
    return it != shape_count_.end() && it->second >= 2;
  }

 public:
  // Counts the shapes of the group's vector predicates (before generate()).
  void prepare(const std::vector<ir::Predicate>& preds) {
    for (const auto& p : preds) {
      if (!vector_form(p)) continue;
      const Shapes s = shapes_of(p);
      for (std::size_t i = 0; i < p.nodes.size(); ++i) {
        if (p.nodes[i].type == ir::VType::Bool && s.size[i] >= kMinShared && !s.key[i].empty()) ++shape_count_[s.key[i]];
      }
    }
  }

 private:
  // Subtrees of `p` generated as calls (tree-shaped: every node inside has one parent).
  std::vector<char> outlined(const ir::Predicate& p, const Shapes& s, std::vector<char>& covered) const {
    std::vector<char> out(p.nodes.size(), 0);
    covered.assign(p.nodes.size(), 0);
    auto tree = [&](auto&& self, std::uint32_t i) -> bool {
      for (int j = 0; j < p.nodes[i].nkids; ++j) {
        const auto k = p.nodes[i].kids[j];
        if (s.parents[k] != 1 || !self(self, k)) return false;
      }
      return true;
    };
    auto cover = [&](auto&& self, std::uint32_t i) -> void {
      for (int j = 0; j < p.nodes[i].nkids; ++j) {
        covered[p.nodes[i].kids[j]] = 1;
        self(self, p.nodes[i].kids[j]);
      }
    };
    auto walk = [&](auto&& self, std::uint32_t i) -> void {
      if (eligible(p, s, i) && tree(tree, i)) {
        out[i] = 1;
        cover(cover, i);
        return;
      }
      for (int j = 0; j < p.nodes[i].nkids; ++j) self(self, p.nodes[i].kids[j]);
    };
    walk(walk, p.root());
    return out;
  }

  void collect_params(const ir::Predicate& p, std::uint32_t i, std::vector<std::int64_t>& out) const {
    for (int j = 0; j < p.nodes[i].nkids; ++j) collect_params(p, p.nodes[i].kids[j], out);
    node_params(p.nodes[i], out);
  }
  VN vtree(const ir::Predicate& p, std::uint32_t i, std::vector<VN>& vals) {
    for (int j = 0; j < p.nodes[i].nkids; ++j) vals[p.nodes[i].kids[j]] = vtree(p, p.nodes[i].kids[j], vals);
    return vnode(p, i, vals);
  }

  // In a shape body: the next parameter.
  Value* param() { return B.CreateLoad(i64, B.CreateGEP(i64, vparams_, B.getInt64(pnext_++))); }
  // A constant: folded in a predicate's own code, a parameter in a shape body.
  VI pconst(std::int64_t c) {
    if (vparams_ == nullptr) return vconst(c, mconst(true));
    Value* x = param();
    switch (width_class(c)) {
      case 'b': return VI{splat(B.CreateTrunc(x, i8)), 8, true, 0, mconst(true)};
      case 's': return VI{splat(B.CreateTrunc(x, i16)), 16, true, 0, mconst(true)};
      case 'u': return VI{splat(B.CreateTrunc(x, i32)), 32, false, 0, mconst(true)};
      default: return VI{splat(x), 64, true, 0, mconst(true)};
    }
  }
  Value* pscalar(std::int64_t c) { return vparams_ == nullptr ? static_cast<Value*>(B.getInt64(static_cast<std::uint64_t>(c))) : param(); }
  // A column whose slot is the next parameter (the slot the first occurrence read: `k`).
  Value* pcol(std::uint32_t /*k*/) { return B.CreateLoad(ptr, B.CreateGEP(ptr, vcols_, param())); }
  Value* pload(Type* t, std::uint32_t k) { return vparams_ == nullptr ? vload(t, k) : vload_at(t, pcol(k)); }
  Mask pbits(std::uint32_t k) { return vparams_ == nullptr ? vbits(k) : chunk_bits(vword_at(pcol(k))); }

  // Generates (once) the body of a shape; returns the function.
  Function* shape_fn(const ir::Predicate& p, std::uint32_t root, const std::string& key) {
    if (auto it = shapes_.find(key); it != shapes_.end()) return it->second;
    auto* f = Function::Create(FunctionType::get(i64, {ptr, ptr, i64, ptr}, false), Function::InternalLinkage,
                               "okuri.shape." + std::to_string(shapes_.size()), M);
    shapes_[key] = f;
    vector_fn_attrs(f);
    f->getArg(3)->addAttr(Attribute::NoAlias);
    f->getArg(3)->addAttr(Attribute::ReadOnly);
    // Save the caller's state, generate, restore.
    IRBuilderBase::InsertPointGuard guard(B);
    auto saved = std::make_tuple(vcols_, venv_, vbase_, vcbase_, vnow_, vtoday_, vparams_, pnext_, chunk_);
    auto saved_maps = std::make_tuple(vslots_, vwords_, vloads_, vleaves_, calls_);
    B.SetInsertPoint(BasicBlock::Create(C, "entry", f));
    begin_vector_code(f->getArg(0), f->getArg(1), f->getArg(2));
    vparams_ = f->getArg(3);
    Value* result = nullptr;
    for (chunk_ = 0; chunk_ < 64 / lanes_; ++chunk_) {
      begin_chunk();
      pnext_ = 0;
      std::vector<VN> vals(p.nodes.size());
      result = end_chunk(vtree(p, root, vals).b, result);
    }
    B.CreateRet(result);
    std::tie(vcols_, venv_, vbase_, vcbase_, vnow_, vtoday_, vparams_, pnext_, chunk_) = saved;
    std::tie(vslots_, vwords_, vloads_, vleaves_, calls_) = saved_maps;
    return f;
  }

  std::map<std::uint32_t, Value*> calls_;  // outlined subtrees: the word of the block

  void vector_fn_attrs(Function* f) {
    attrs(f, cpu_, features_);
    if (lanes_ == 64) f->addFnAttr("min-legal-vector-width", "512");
    for (unsigned a : {0u, 1u}) {
      f->getArg(a)->addAttr(Attribute::NoAlias);
      f->getArg(a)->addAttr(Attribute::ReadOnly);
    }
  }
  // Starts vector code at the insert point for the block of friends at `base`.
  void begin_vector_code(Value* cols, Value* env, Value* base) {
    vcols_ = cols;
    venv_ = env;
    vbase_ = base;
    vparams_ = nullptr;
    vslots_.clear();
    vwords_.clear();
    calls_.clear();
    vnow_ = B.CreateLoad(i64, B.CreateGEP(i64, venv_, B.getInt64(0)));
    vtoday_ = B.CreateLoad(i64, B.CreateGEP(i64, venv_, B.getInt64(1)));
  }
  void begin_chunk() {
    vloads_.clear();
    vleaves_.clear();
    vcbase_ = chunk_ == 0 ? vbase_ : B.CreateAdd(vbase_, B.getInt64(static_cast<std::uint64_t>(chunk_) * lanes_));
  }
  Value* end_chunk(const Mask& root, Value* acc) {
    Value* w = as_word(root);
    if (lanes_ < 64) w = B.CreateShl(B.CreateZExt(w, i64), static_cast<std::uint64_t>(chunk_) * lanes_);
    return acc == nullptr ? w : B.CreateOr(acc, w);
  }

  static ir::CmpOp swapped(ir::CmpOp op) {
    switch (op) {
      case ir::CmpOp::Lt: return ir::CmpOp::Gt;
      case ir::CmpOp::Le: return ir::CmpOp::Ge;
      case ir::CmpOp::Gt: return ir::CmpOp::Lt;
      case ir::CmpOp::Ge: return ir::CmpOp::Le;
      default: return op;
    }
  }
  static CmpInst::Predicate pred_of(ir::CmpOp op, bool is_signed) {
    switch (op) {
      case ir::CmpOp::Eq: return CmpInst::ICMP_EQ;
      case ir::CmpOp::Ne: return CmpInst::ICMP_NE;
      case ir::CmpOp::Lt: return is_signed ? CmpInst::ICMP_SLT : CmpInst::ICMP_ULT;
      case ir::CmpOp::Le: return is_signed ? CmpInst::ICMP_SLE : CmpInst::ICMP_ULE;
      case ir::CmpOp::Gt: return is_signed ? CmpInst::ICMP_SGT : CmpInst::ICMP_UGT;
      case ir::CmpOp::Ge: return is_signed ? CmpInst::ICMP_SGE : CmpInst::ICMP_UGE;
    }
    return CmpInst::ICMP_EQ;
  }
  static bool fold_cmp(ir::CmpOp op, std::int64_t a, std::int64_t b) {
    switch (op) {
      case ir::CmpOp::Eq: return a == b;
      case ir::CmpOp::Ne: return a != b;
      case ir::CmpOp::Lt: return a < b;
      case ir::CmpOp::Le: return a <= b;
      case ir::CmpOp::Gt: return a > b;
      case ir::CmpOp::Ge: return a >= b;
    }
    return false;
  }

  // `a op b` on the values of every lane, known or not (the caller masks).
  Mask vcmp(ir::CmpOp op, VI a, VI b) {
    if (a.v == nullptr && b.v == nullptr) return mconst(fold_cmp(op, a.c, b.c));
    if (a.v == nullptr) {
      std::swap(a, b);
      op = swapped(op);
    }
    if (b.v == nullptr && a.w < 64) {
      // Compare in the column's width; a constant outside its range decides alone.
      const std::int64_t lo = a.sext ? -(std::int64_t{1} << (a.w - 1)) : 0;
      const std::int64_t hi = a.sext ? (std::int64_t{1} << (a.w - 1)) - 1 : (std::int64_t{1} << a.w) - 1;
      if (b.c < lo || b.c > hi) {
        const bool above = b.c > hi;
        switch (op) {
          case ir::CmpOp::Eq: return mconst(false);
          case ir::CmpOp::Ne: return mconst(true);
          case ir::CmpOp::Lt:
          case ir::CmpOp::Le: return mconst(above);
          case ir::CmpOp::Gt:
          case ir::CmpOp::Ge: return mconst(!above);
        }
      }
      return mvec(B.CreateICmp(pred_of(op, a.sext), a.v, splat_int(a.w, b.c)));
    }
    if (b.v != nullptr && a.w == b.w && a.sext == b.sext) return mvec(B.CreateICmp(pred_of(op, a.sext), a.v, b.v));
    if (b.v != nullptr && a.sext == b.sext && a.w < 64 && b.w < 64) {
      // Both narrow, of one signedness: compare in the wider of the two widths.
      const unsigned w = std::max(a.w, b.w);
      auto ext = [&](const VI& x) { return x.w == w ? x.v : (x.sext ? B.CreateSExt(x.v, vt(Type::getIntNTy(C, w))) : B.CreateZExt(x.v, vt(Type::getIntNTy(C, w)))); };
      return mvec(B.CreateICmp(pred_of(op, a.sext), ext(a), ext(b)));
    }
    return mvec(B.CreateICmp(pred_of(op, true), wide(a), wide(b)));
  }

  // Whether every node has a vector form; predicates with text or calls keep the lane loop.
  bool vectorizable(const ir::Predicate& p) const {
    using ir::Op;
    if (p.nodes.empty() || p.nodes[p.root()].type != ir::VType::Bool) return false;
    for (const auto& n : p.nodes) {
      if (n.type == ir::VType::Text) return false;
      switch (n.op) {
        case Op::ConstText:
        case Op::LocalDays:
        case Op::Month:
        case Op::Day:
        case Op::Weekday:
        case Op::HourOfDateTime:
        case Op::Contains:
        case Op::StartsWith:
        case Op::TextEq:
          return false;
        case Op::Attr: {
          const auto a = static_cast<ir::Attr>(n.a);
          if (a == ir::Attr::Source || a == ir::Attr::DisplayName || a == ir::Attr::Language) return false;
          break;
        }
        case Op::Scale:
          if (n.b == 0 || n.b == -1) return false;
          break;
        default:
          break;
      }
    }
    return true;
  }

  // Leaves that read columns are computed once per chunk, however often the predicate names them.
  std::map<std::tuple<int, std::int32_t, std::int64_t>, VN> vleaves_;

  VN vnode(const ir::Predicate& p, std::size_t idx, const std::vector<VN>& vals) {
    using ir::Op;
    const ir::Node& n = p.nodes[idx];
    const VN* k0 = n.nkids > 0 ? &vals[n.kids[0]] : nullptr;
    const VN* k1 = n.nkids > 1 ? &vals[n.kids[1]] : nullptr;
    const VN* k2 = n.nkids > 2 ? &vals[n.kids[2]] : nullptr;
    VN out;
    const bool leaf = n.nkids == 0 && n.op != Op::ConstBool && n.op != Op::ConstInt && vparams_ == nullptr;
    const bool narrow = n.op == Op::Attr && idx < narrow_.size() && narrow_[idx] != 0;
    const auto key = std::make_tuple(static_cast<int>(n.op) * 4 + static_cast<int>(n.type), n.a, narrow ? -1 : n.b);
    if (leaf) {
      if (auto it = vleaves_.find(key); it != vleaves_.end()) return it->second;
    }
    switch (n.op) {
      case Op::ConstBool:
        out.b = mconst(n.b != 0);
        break;
      case Op::ConstInt:
        out.i = pconst(n.b);
        break;
      case Op::Attr:
        out = vattr(static_cast<ir::Attr>(n.a), narrow);
        break;
      case Op::Field: {
        if (n.a < 0) {
          out.b = mconst(false);
          out.i = vconst(0, mconst(false));
          break;
        }
        const Mask known = pbits(L.field_known(n.a));
        Value* v = pload(i64, L.field_values(n.a));
        if (n.type == ir::VType::Bool) {
          out.b = mand(known, mvec(B.CreateICmpNE(v, splat_int(64, 0))));
        } else {
          out.i = wide_int(v, known);
        }
        break;
      }
      case Op::NamedScore:
        out.i = n.a < 0 ? vconst(0, mconst(true)) : wide_int(pload(i64, L.named_score(n.a)), mconst(true));
        break;
      case Op::Tagged:
        out.b = n.a < 0 ? mconst(false) : pbits(L.tag(n.a));
        break;
      case Op::InAudience:
        out.b = n.a < 0 ? mconst(false) : pbits(L.audience(n.a));
        break;
      case Op::Visited:
        out.b = n.a < 0 || static_cast<std::size_t>(n.a) >= schema_.visit_patterns.size() ? mconst(false) : pbits(L.visit(n.a));
        break;
      case Op::Clicked:
      case Op::Opened: {
        if (n.a < 0) {
          out.b = mconst(false);
          break;
        }
        const bool click = n.op == Op::Clicked;
        Value* count = pload(i32, click ? L.link_clicks(n.a) : L.msg_opened(n.a));
        Value* yes = B.CreateICmpUGT(count, splat_int(32, 0));
        if (n.b != 0) {
          Value* last = pload(i64, click ? L.link_last(n.a) : L.msg_last_opened(n.a));
          Value* since = B.CreateSub(vnow_, pscalar(n.b));
          yes = B.CreateAnd(yes, B.CreateICmpSGE(last, splat(since)));
        }
        out.b = mvec(yes);
        break;
      }
      case Op::Clicks:
        out.i = n.a < 0 ? vconst(0, mconst(true)) : VI{pload(i32, L.link_clicks(n.a)), 32, false, 0, mconst(true)};
        break;
      case Op::Sent:
        out.b = n.a < 0 ? mconst(false) : mvec(B.CreateICmpUGT(pload(i32, L.msg_sent(n.a)), splat_int(32, 0)));
        break;
      case Op::EventField:  // a scan has no event: unknown
        out.b = mconst(false);
        out.i = vconst(0, mconst(false));
        break;
      case Op::Known:
        out.b = p.nodes[n.kids[0]].type == ir::VType::Bool ? mconst(true) : k0->i.known;
        break;
      case Op::HourOfTime:
        out.i = k0->i.v == nullptr ? vconst(k0->i.c / 60, k0->i.known) : wide_int(B.CreateSDiv(wide(k0->i), splat_int(64, 60)), k0->i.known);
        break;
      case Op::Has: {
        if (n.b < 0 || n.b >= 64) {
          out.b = mconst(false);
          break;
        }
        const std::int64_t bitv = static_cast<std::int64_t>(std::uint64_t{1} << n.b);
        Value* b = B.CreateICmpNE(B.CreateAnd(wide(k0->i), splat(pscalar(bitv))), splat_int(64, 0));
        out.b = mand(k0->i.known, mvec(b));
        break;
      }
      case Op::Cmp:
        out.b = mand(mand(k0->i.known, k1->i.known), vcmp(static_cast<ir::CmpOp>(n.a), k0->i, k1->i));
        break;
      case Op::InRange: {
        Mask in = mand(vcmp(ir::CmpOp::Le, k1->i, k0->i), vcmp(ir::CmpOp::Le, k0->i, k2->i));
        if (n.a != 0) in = mnot(in);
        out.b = mand(mand(k0->i.known, mand(k1->i.known, k2->i.known)), in);
        break;
      }
      case Op::InSet: {
        Mask in = mconst(false);
        if (n.mask != 0 && std::popcount(n.mask) > 8) {
          Value* x = wide(k0->i);
          Value* ok = B.CreateICmpULT(x, splat_int(64, 64));
          Value* sh = B.CreateSelect(ok, x, splat_int(64, 0));
          Value* bit = B.CreateAnd(B.CreateLShr(splat(pscalar(static_cast<std::int64_t>(n.mask))), sh), splat_int(64, 1));
          in = mvec(B.CreateAnd(ok, B.CreateICmpNE(bit, splat_int(64, 0))));
        } else if (n.mask != 0) {
          for (int b = 0; b < 64; ++b) {
            if (((n.mask >> b) & 1) != 0) in = mor(in, vcmp(ir::CmpOp::Eq, k0->i, pconst(b)));
          }
        } else {
          for (auto x : n.ints) in = mor(in, vcmp(ir::CmpOp::Eq, k0->i, pconst(x)));
        }
        if (n.a != 0) in = mnot(in);
        out.b = mand(k0->i.known, in);
        break;
      }
      case Op::And:
        out.b = mand(k0->b, k1->b);
        break;
      case Op::Or:
        out.b = mor(k0->b, k1->b);
        break;
      case Op::Not:
        out.b = mnot(k0->b);
        break;
      case Op::Add:
      case Op::Sub: {
        const Mask known = mand(k0->i.known, k1->i.known);
        const bool add = n.op == Op::Add;
        if (k0->i.v == nullptr && k1->i.v == nullptr) {
          const auto a = static_cast<std::uint64_t>(k0->i.c), b = static_cast<std::uint64_t>(k1->i.c);
          out.i = vconst(static_cast<std::int64_t>(add ? a + b : a - b), known);
        } else {
          out.i = wide_int(add ? B.CreateAdd(wide(k0->i), wide(k1->i)) : B.CreateSub(wide(k0->i), wide(k1->i)), known);
        }
        break;
      }
      case Op::Neg:
        out.i = k0->i.v == nullptr ? vconst(static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(k0->i.c)), k0->i.known)
                                   : wide_int(B.CreateSub(splat_int(64, 0), wide(k0->i)), k0->i.known);
        break;
      case Op::Scale: {
        const std::int64_t d = n.b;
        if (k0->i.v == nullptr) {
          const std::int64_t a = k0->i.c;
          out.i = vconst(a / d - ((a % d != 0) && ((a < 0) != (d < 0))), k0->i.known);
          break;
        }
        Value* x = wide(k0->i);
        Value* q = B.CreateSDiv(x, splat_int(64, d));
        Value* r = B.CreateSRem(x, splat_int(64, d));
        Value* neg = B.CreateICmpSLT(x, splat_int(64, 0));
        if (d < 0) neg = B.CreateNot(neg);
        Value* adj = B.CreateAnd(B.CreateICmpNE(r, splat_int(64, 0)), neg);
        out.i = wide_int(B.CreateSub(q, B.CreateZExt(adj, vt(i64))), k0->i.known);
        break;
      }
      case Op::Mul:
        out.i = k0->i.v == nullptr
                    ? vconst(static_cast<std::int64_t>(static_cast<std::uint64_t>(k0->i.c) * static_cast<std::uint64_t>(n.b)), k0->i.known)
                    : wide_int(B.CreateMul(wide(k0->i), splat_int(64, n.b)), k0->i.known);
        break;
      default:  // not vectorizable(): never reached
        out.b = mconst(false);
        out.i = vconst(0, mconst(false));
        break;
    }
    if (leaf) vleaves_[key] = out;
    return out;
  }

  VN vattr(ir::Attr a, bool narrow = false) {
    VN out;
    if (narrow && a == ir::Attr::Age) {
      Value* v = vload(i8, rt::SlotLayout::kAge8);
      out.i = VI{v, 8, true, 0, mvec(B.CreateICmpNE(v, splat_int(8, rt::kNarrowUnknown)))};
      return out;
    }
    if (narrow && a == ir::Attr::Score) {
      out.i = VI{vload(i8, rt::SlotLayout::kScore8), 8, true, 0, mconst(true)};
      return out;
    }
    switch (a) {
      case ir::Attr::Gender:
      case ir::Attr::Region: {
        Value* g = vload(i8, a == ir::Attr::Gender ? rt::SlotLayout::kGender : rt::SlotLayout::kRegion);
        // g - 1 fits in i16 (-1 … 254).
        out.i = VI{B.CreateSub(B.CreateZExt(g, vt(i16)), splat_int(16, 1)), 16, true, 0, mvec(B.CreateICmpNE(g, splat_int(8, 0)))};
        break;
      }
      case ir::Attr::Age: {
        Value* v = vload(i16, rt::SlotLayout::kAge);
        out.i = VI{v, 16, true, 0, mvec(B.CreateICmpNE(v, splat_int(16, rt::kUnknownAge)))};
        break;
      }
      case ir::Attr::FriendDays: {
        Value* s = vload(i32, rt::SlotLayout::kFriendSince);
        out.i = wide_int(B.CreateSub(splat(vtoday_), B.CreateSExt(s, vt(i64))), mvec(B.CreateICmpNE(s, splat_int(32, rt::kUnknownDays))));
        break;
      }
      case ir::Attr::Blocked:
        out.b = vbits(rt::SlotLayout::kBlocked);
        break;
      case ir::Attr::Score:
        out.i = wide_int(vload(i64, rt::SlotLayout::kScore), mconst(true));
        break;
      case ir::Attr::Today:
        out.i = wide_int(splat(vtoday_), mconst(true));
        break;
      case ir::Attr::Now:
        out.i = wide_int(splat(vnow_), mconst(true));
        break;
      default:  // text: not vectorizable()
        out.i = vconst(0, mconst(false));
        break;
    }
    return out;
  }

  // An outlined subtree: one call per block with the occurrence's parameters.
  Mask call_shape(const ir::Predicate& p, std::uint32_t i, const std::string& key) {
    if (auto it = calls_.find(i); it != calls_.end()) return chunk_bits(it->second);
    Function* f = shape_fn(p, i, key);
    std::vector<std::int64_t> params;
    collect_params(p, i, params);
    Value* arg = ConstantPointerNull::get(PointerType::get(C, 0));
    if (!params.empty()) {
      std::vector<std::uint64_t> raw(params.begin(), params.end());
      auto* init = ConstantDataArray::get(C, ArrayRef<std::uint64_t>(raw));
      arg = new GlobalVariable(M, init->getType(), true, GlobalValue::PrivateLinkage, init, "okuri.params");
    }
    Value* w = B.CreateCall(f, {vcols_, venv_, vbase_, arg});
    calls_[i] = w;
    return chunk_bits(w);
  }

  bool vector_form(const ir::Predicate& p) const { return vectorizable(p) && !p.uses_event(); }

  // `<name>_scan`: a loop over the full blocks of 64 friends whose body is the
  // predicate as vector code; the tail calls the row function per friend.
  // Which `age` and `score` nodes of `p` read their scan column: those whose
  // only parent compares them with constants that all fit it (-126 … 126), so
  // that saturation keeps the answer. (A shape's key holds the same facts:
  // the attribute, the parent's operator and every constant's width class.)
  std::vector<char> narrow_;
  void plan_narrow(const ir::Predicate& p) {
    using ir::Op;
    const std::size_t n = p.nodes.size();
    narrow_.assign(n, 0);
    std::vector<std::uint32_t> parents(n, 0);
    for (const auto& nd : p.nodes) {
      for (int j = 0; j < nd.nkids; ++j) ++parents[nd.kids[j]];
    }
    auto narrowable = [&](std::uint32_t k) {
      const auto& x = p.nodes[k];
      return x.op == Op::Attr && (static_cast<ir::Attr>(x.a) == ir::Attr::Age || static_cast<ir::Attr>(x.a) == ir::Attr::Score) &&
             parents[k] == 1;
    };
    auto small = [&](std::uint32_t k) {
      return p.nodes[k].op == Op::ConstInt && width_class(p.nodes[k].b) == 'b';
    };
    for (const auto& nd : p.nodes) {
      if (nd.op == Op::Cmp && nd.nkids == 2) {
        if (narrowable(nd.kids[0]) && small(nd.kids[1])) narrow_[nd.kids[0]] = 1;
        if (narrowable(nd.kids[1]) && small(nd.kids[0])) narrow_[nd.kids[1]] = 1;
      } else if (nd.op == Op::InRange && nd.nkids == 3) {
        if (narrowable(nd.kids[0]) && small(nd.kids[1]) && small(nd.kids[2])) narrow_[nd.kids[0]] = 1;
      } else if (nd.op == Op::InSet && nd.nkids == 1 && nd.mask == 0 && !nd.ints.empty()) {
        bool all = true;
        for (auto x : nd.ints) all = all && width_class(x) == 'b';
        if (all && narrowable(nd.kids[0])) narrow_[nd.kids[0]] = 1;
      }
    }
  }

  void vector_scan(const ir::Predicate& p, const std::string& name, Function* rowf) {
    plan_narrow(p);
    const Shapes shapes = shapes_of(p);
    std::vector<char> covered;
    const std::vector<char> calls = outlined(p, shapes, covered);
    auto* f = Function::Create(FunctionType::get(Type::getVoidTy(C), {ptr, ptr, i64, ptr}, false), Function::ExternalLinkage,
                               name + "_scan", M);
    vector_fn_attrs(f);
    f->getArg(3)->addAttr(Attribute::NoAlias);
    Value* cols = f->getArg(0);
    Value* env = f->getArg(1);
    Value* nrows = f->getArg(2);
    Value* out = f->getArg(3);
    auto* entry = BasicBlock::Create(C, "entry", f);
    auto* loop = BasicBlock::Create(C, "block", f);
    auto* tail_check = BasicBlock::Create(C, "tail.check", f);
    auto* tail = BasicBlock::Create(C, "tail", f);
    auto* tail_end = BasicBlock::Create(C, "tail.end", f);
    auto* done = BasicBlock::Create(C, "done", f);
    B.SetInsertPoint(entry);
    Value* nfull = B.CreateLShr(nrows, 6);
    B.CreateCondBr(B.CreateICmpUGT(nfull, B.getInt64(0)), loop, tail_check);

    // One iteration per full block of 64 friends: the predicate as vector code.
    B.SetInsertPoint(loop);
    PHINode* blk = B.CreatePHI(i64, 2, "b");
    blk->addIncoming(B.getInt64(0), entry);
    begin_vector_code(cols, env, B.CreateShl(blk, 6));
    Value* result = nullptr;
    for (chunk_ = 0; chunk_ < 64 / lanes_; ++chunk_) {
      begin_chunk();
      std::vector<VN> vals(p.nodes.size());
      for (std::uint32_t i = 0; i < p.nodes.size(); ++i) {
        if (covered[i] != 0) continue;
        if (calls[i] != 0) {
          vals[i].b = call_shape(p, i, shapes.key[i]);
        } else {
          vals[i] = vnode(p, i, vals);
        }
      }
      result = end_chunk(vals[p.root()].b, result);
    }
    B.CreateStore(result, B.CreateGEP(i64, out, blk));
    Value* next = B.CreateAdd(blk, B.getInt64(1));
    blk->addIncoming(next, B.GetInsertBlock());
    B.CreateCondBr(B.CreateICmpULT(next, nfull), loop, tail_check);

    // The tail (fewer than 64 friends) goes friend by friend through the row function, so that no
    // column is read past its end.
    B.SetInsertPoint(tail_check);
    Value* tbase = B.CreateAnd(nrows, B.getInt64(~std::uint64_t{63}));
    B.CreateCondBr(B.CreateICmpULT(tbase, nrows), tail, done);
    B.SetInsertPoint(tail);
    PHINode* i = B.CreatePHI(i64, 2, "i");
    PHINode* mask = B.CreatePHI(i64, 2, "mask");
    i->addIncoming(B.getInt64(0), tail_check);
    mask->addIncoming(B.getInt64(0), tail_check);
    Value* r = B.CreateCall(rowf, {cols, env, B.CreateAdd(tbase, i), ConstantPointerNull::get(PointerType::get(C, 0))});
    Value* next_mask = B.CreateOr(mask, B.CreateShl(B.CreateZExt(r, i64), i));
    Value* next_i = B.CreateAdd(i, B.getInt64(1));
    i->addIncoming(next_i, tail);
    mask->addIncoming(next_mask, tail);
    B.CreateCondBr(B.CreateICmpULT(B.CreateAdd(tbase, next_i), nrows), tail, tail_end);
    B.SetInsertPoint(tail_end);
    B.CreateStore(next_mask, B.CreateGEP(i64, out, nfull));
    B.CreateBr(done);

    B.SetInsertPoint(done);
    B.CreateRetVoid();
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
    lane_code(p, f, with_event);
    return f;
  }

  // The body of `f(cols, env, row, event)`: the predicate for one friend, returned as
  // `f`'s return type (i1 for a lane, i8 for `row`).
  void lane_code(const ir::Predicate& p, Function* f, bool with_event) {
    B.SetInsertPoint(BasicBlock::Create(C, "entry", f));
    cols_ = f->getArg(0);
    env_ = f->getArg(1);
    row_ = f->getArg(2);
    event_ = with_event ? f->getArg(3) : nullptr;
    std::vector<V> vals(p.nodes.size());
    Value* r = nullptr;
    if (with_event || short_circuit_) {
      // Per-event code: `and`/`or` skip their right side, so a friend who fails
      // the first clause costs one column read.
      r = gen(p, p.root(), vals).v;
    } else {
      // Scan code: straight-line and branch-free, which the vectorizer widens.
      for (std::size_t i = 0; i < p.nodes.size(); ++i) vals[i] = node(p, i, vals);
      r = vals[p.root()].v;
    }
    B.CreateRet(f->getReturnType() == i1 ? r : B.CreateZExt(r, f->getReturnType()));
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
  // A light cleanup: inline the lanes into scan and row, fold and share what
  // the generator repeated, and hoist the column pointers out of the lane loops
  // of predicates without a vector form. The scan of every other predicate is
  // already vector code, so no loop vectorizer.
  ModulePassManager mpm;
  mpm.addPass(AlwaysInlinerPass());
  FunctionPassManager fpm;
  fpm.addPass(EarlyCSEPass(true));
  fpm.addPass(InstCombinePass());
  fpm.addPass(SimplifyCFGPass());
  fpm.addPass(LoopSimplifyPass());
  fpm.addPass(LCSSAPass());
  fpm.addPass(createFunctionToLoopPassAdaptor(LICMPass(LICMOptions()), /*UseMemorySSA=*/true));
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
    // Both tiers select instructions without optimisation: the scan is vector code already and
    // tier 2 has cleaned the IR up; CodeGenOpt Less took three times as long and scanned no faster.
    jtmb.setCodeGenOptLevel(CodeGenOptLevel::None);
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
  std::string key_text = std::to_string(stdlib::kAbiVersion) + "|" + std::to_string(kCodegenVersion) + "|" +
                         LLVM_VERSION_STRING + "|" + target() + "|" + std::to_string(static_cast<int>(tier)) + "|";
  const rt::SlotLayout layout(schema);
  key_text += layout.key() + "|";
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
    cg.prepare(preds);
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
    if (const char* dump = std::getenv("OKURI_JIT_DUMP_IR"); dump != nullptr && *dump != 0) {
      std::error_code dec;
      raw_fd_ostream os(std::string(dump) + "/" + key + ".ll", dec);
      if (!dec) mod->print(os, nullptr);
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
