// LLVM code generation for the predicate IR; private to runtime/jit/ (jit.cpp
// compiles what it generates with LLJIT).
//
// Per predicate: `scan` evaluates the predicate over the friends 64 at a time
// as explicit vector code (every node a value per lane, comparisons giving
// masks, tag bitmaps read as the block's 64-bit word) and stores one 64-bit
// mask per block; `row` evaluates it for one friend with scalar code (`lane`)
// whose `and`/`or` branch. Predicates with a node that has no vector form (text,
// calls into the stdlib) scan with the old loop over the scalar `lane`.
//
// The vector scan is generated in codegen_vector.cpp, the scalar row and lane
// code in codegen_row.cpp.
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "compiler/pred_ir.hpp"
#include "runtime/jit_abi.hpp"

namespace okuri::jit::detail {

using Type = llvm::Type;

struct V {
  llvm::Value* v = nullptr;      // i64, or i1 for Bool
  llvm::Value* known = nullptr;  // i1
  llvm::Value* ptr = nullptr;    // text
  llvm::Value* len = nullptr;    // text
};

class Codegen {
 public:
  Codegen(llvm::LLVMContext& c, llvm::Module& m, const ir::Schema& s);

  // Generates `<name>_scan` and `<name>_row` for one predicate.
  void generate(const ir::Predicate& p, const std::string& name, const std::string& cpu, const std::string& features,
                bool separate_row_lane);

 private:
  llvm::LLVMContext& C;
  llvm::Module& M;
  llvm::IRBuilder<> B;
  const ir::Schema& schema_;
  rt::SlotLayout L;
  Type *i1, *i8, *i16, *i32, *i64, *ptr;
  llvm::Function *f_contains_, *f_starts_, *f_texteq_, *f_month_, *f_day_, *f_weekday_, *f_local_days_,
      *f_local_minute_;
  llvm::Value* empty_;
  llvm::Value *cols_ = nullptr, *env_ = nullptr, *row_ = nullptr, *event_ = nullptr;

  void attrs(llvm::Function* f, const std::string& cpu, const std::string& features);

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
    llvm::Value* v = nullptr;
  };
  // An integer over the chunk's lanes: `v` is `<N x iW>` (extended to i64 by
  // sign or zero), or null for the constant `c`; `known` its known lanes.
  struct VI {
    llvm::Value* v = nullptr;
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
  llvm::Value *vcols_ = nullptr, *venv_ = nullptr, *vbase_ = nullptr, *vcbase_ = nullptr;
  llvm::Value *vnow_ = nullptr, *vtoday_ = nullptr;
  std::map<std::uint32_t, llvm::Value*> vslots_;  // column pointers, loaded once per block
  std::map<std::uint32_t, llvm::Value*> vwords_;  // bitmap words of the block
  std::map<std::uint32_t, llvm::Value*> vloads_;  // column loads of the chunk

  static Mask mconst(bool c) { return Mask{Mask::Const, c, nullptr}; }
  static Mask mvec(llvm::Value* v) { return Mask{Mask::Vec, false, v}; }
  static Mask mword(llvm::Value* v) { return Mask{Mask::Word, false, v}; }
  static VI vconst(std::int64_t c, Mask known) { return VI{nullptr, 64, true, c, known}; }

  Type* vt(Type* e) { return llvm::FixedVectorType::get(e, lanes_); }
  Type* wordty() { return Type::getIntNTy(C, lanes_); }
  llvm::Value* splat(llvm::Value* x) { return B.CreateVectorSplat(lanes_, x); }
  llvm::Value* splat_int(unsigned w, std::int64_t c);

  llvm::Value* as_vec(const Mask& m);
  llvm::Value* as_word(const Mask& m);
  Mask mand(const Mask& a, const Mask& b);
  Mask mor(const Mask& a, const Mask& b);
  Mask mnot(const Mask& a);

  llvm::Value* wide(const VI& x);
  VI wide_int(llvm::Value* v, Mask known) { return VI{v, 64, true, 0, known}; }

  llvm::Value* vslot(std::uint32_t k);
  // The chunk's elements of a column: one (unaligned) vector load.
  llvm::Value* vload_at(Type* t, llvm::Value* col);
  // The chunk's bits of a bitmap column: the block's word (or a part of it).
  llvm::Value* vword_at(llvm::Value* col) { return B.CreateLoad(i64, B.CreateGEP(i64, col, B.CreateLShr(vbase_, 6))); }
  Mask chunk_bits(llvm::Value* w);
  llvm::Value* vload(Type* t, std::uint32_t k);
  Mask vbits(std::uint32_t k);

  // ---- Shared code for subtrees of the same shape ---------------------------
  //
  // Segments written from one pattern (and their copies inlined into other
  // segments) differ only in constants and in the columns they read. A subtree
  // whose shape occurs more than once in the group is generated once, as
  // `i64 shape(cols, env, base, params)` reading its constants and column slots
  // from `params`, and each occurrence calls it with its own constant array.
  // The shape key keeps everything code generation decides on (operators,
  // types, the width class of every constant), so one body is right for all.

  llvm::Value* vparams_ = nullptr;  // in a shape body: the occurrence's parameters
  unsigned pnext_ = 0;
  std::map<std::string, int> shape_count_;
  std::map<std::string, llvm::Function*> shapes_;
  std::string cpu_, features_;

  static bool fits(std::int64_t c, std::int64_t lo, std::int64_t hi) { return c >= lo && c <= hi; }
  // The width a constant is compared in: i16 (sign), i32 (zero) or i64.
  static char width_class(std::int64_t c);

  // The parameters of one node, in the order its code reads them.
  void node_params(const ir::Node& n, std::vector<std::int64_t>& out) const;
  // What code generation decides on, for one node (its kids' keys come first).
  std::string node_key(const ir::Node& n) const;

  struct Shapes {
    std::vector<std::string> key;
    std::vector<std::uint32_t> size;
    std::vector<std::uint32_t> parents;
  };
  Shapes shapes_of(const ir::Predicate& p) const;
  static constexpr std::uint32_t kMinShared = 4;  // nodes
  bool eligible(const ir::Predicate& p, const Shapes& s, std::uint32_t i) const;

 public:
  // Counts the shapes of the group's vector predicates (before generate()).
  void prepare(const std::vector<ir::Predicate>& preds);

 private:
  // Subtrees of `p` generated as calls (tree-shaped: every node inside has one parent).
  std::vector<char> outlined(const ir::Predicate& p, const Shapes& s, std::vector<char>& covered) const;

  void collect_params(const ir::Predicate& p, std::uint32_t i, std::vector<std::int64_t>& out) const;
  VN vtree(const ir::Predicate& p, std::uint32_t i, std::vector<VN>& vals);

  // In a shape body: the next parameter.
  llvm::Value* param() { return B.CreateLoad(i64, B.CreateGEP(i64, vparams_, B.getInt64(pnext_++))); }
  // A constant: folded in a predicate's own code, a parameter in a shape body.
  VI pconst(std::int64_t c);
  llvm::Value* pscalar(std::int64_t c) {
    return vparams_ == nullptr ? static_cast<llvm::Value*>(B.getInt64(static_cast<std::uint64_t>(c))) : param();
  }
  // A column whose slot is the next parameter (the slot the first occurrence read: `k`).
  llvm::Value* pcol(std::uint32_t /*k*/) { return B.CreateLoad(ptr, B.CreateGEP(ptr, vcols_, param())); }
  llvm::Value* pload(Type* t, std::uint32_t k) { return vparams_ == nullptr ? vload(t, k) : vload_at(t, pcol(k)); }
  Mask pbits(std::uint32_t k) { return vparams_ == nullptr ? vbits(k) : chunk_bits(vword_at(pcol(k))); }

  // Generates (once) the body of a shape; returns the function.
  llvm::Function* shape_fn(const ir::Predicate& p, std::uint32_t root, const std::string& key);

  std::map<std::uint32_t, llvm::Value*> calls_;  // outlined subtrees: the word of the block

  void vector_fn_attrs(llvm::Function* f);
  // Starts vector code at the insert point for the block of friends at `base`.
  void begin_vector_code(llvm::Value* cols, llvm::Value* env, llvm::Value* base);
  void begin_chunk();
  llvm::Value* end_chunk(const Mask& root, llvm::Value* acc);

  static ir::CmpOp swapped(ir::CmpOp op);
  static llvm::CmpInst::Predicate pred_of(ir::CmpOp op, bool is_signed);
  static bool fold_cmp(ir::CmpOp op, std::int64_t a, std::int64_t b);

  // `a op b` on the values of every lane, known or not (the caller masks).
  Mask vcmp(ir::CmpOp op, VI a, VI b);

  // Whether every node has a vector form; predicates with text or calls keep the lane loop.
  bool vectorizable(const ir::Predicate& p) const;

  // Leaves that read columns are computed once per chunk, however often the predicate names them.
  std::map<std::tuple<int, std::int32_t, std::int64_t>, VN> vleaves_;

  VN vnode(const ir::Predicate& p, std::size_t idx, const std::vector<VN>& vals);
  VN vattr(ir::Attr a, bool narrow = false);

  // An outlined subtree: one call per block with the occurrence's parameters.
  Mask call_shape(const ir::Predicate& p, std::uint32_t i, const std::string& key);

  bool vector_form(const ir::Predicate& p) const { return vectorizable(p) && !p.uses_event(); }

  // `<name>_scan`: a loop over the full blocks of 64 friends whose body is the
  // predicate as vector code; the tail calls the row function per friend.
  // Which `age` and `score` nodes of `p` read their scan column: those whose
  // only parent compares them with constants that all fit it (-126 … 126), so
  // that saturation keeps the answer. (A shape's key holds the same facts:
  // the attribute, the parent's operator and every constant's width class.)
  std::vector<char> narrow_;
  void plan_narrow(const ir::Predicate& p);

  void vector_scan(const ir::Predicate& p, const std::string& name, llvm::Function* rowf);

  // ---- The row and lane code ---------------------------------------------------

  llvm::Value* slot(std::uint32_t k) { return B.CreateLoad(ptr, B.CreateGEP(ptr, cols_, B.getInt64(k))); }
  llvm::Value* elem(Type* t, std::uint32_t k) { return B.CreateLoad(t, B.CreateGEP(t, slot(k), row_)); }
  llvm::Value* bit(std::uint32_t k);
  llvm::Value* env_field(int i);
  V known_int(llvm::Value* v, llvm::Value* known) { return V{v, known, nullptr, nullptr}; }
  V boolean(llvm::Value* b) { return V{b, B.getTrue(), nullptr, nullptr}; }
  V text_from_id(llvm::Value* id32, llvm::Value* known);
  llvm::Value* guard(const V& x) { return B.CreateSelect(x.known, x.v, B.getInt64(0)); }

  llvm::Function* lane(const ir::Predicate& p, const std::string& name, bool with_event, const std::string& cpu,
                       const std::string& features);

  // The body of `f(cols, env, row, event)`: the predicate for one friend, returned as
  // `f`'s return type (i1 for a lane, i8 for `row`).
  void lane_code(const ir::Predicate& p, llvm::Function* f, bool with_event);

  bool short_circuit_ = false;

  V gen(const ir::Predicate& p, std::uint32_t idx, std::vector<V>& vals);
  V node(const ir::Predicate& p, std::size_t idx, const std::vector<V>& vals);
  V attr(ir::Attr a);
};

}  // namespace okuri::jit::detail
