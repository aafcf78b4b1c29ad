#include <fmt/format.h>

#include <algorithm>

#include "compiler/formatter.hpp"

namespace okuri {
namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t b = 0;
  while (b < s.size()) {
    auto e = s.find('\n', b);
    if (e == std::string_view::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

struct Op {
  char kind;  // ' ', '-', '+'
  std::size_t a;
  std::size_t b;
};

}  // namespace

std::string unified_diff(const std::string& a_name, const std::string& b_name, std::string_view at, std::string_view bt) {
  if (at == bt) return {};
  const auto a = split_lines(at);
  const auto b = split_lines(bt);
  // Trim the common prefix and suffix, then LCS on the middle (bounded size).
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  const std::size_t n = a.size() - pre - suf;
  const std::size_t m = b.size() - pre - suf;
  std::vector<Op> ops;
  for (std::size_t i = 0; i < pre; ++i) ops.push_back({' ', i, i});
  if (n * m <= 4'000'000) {
    std::vector<std::vector<std::uint32_t>> l(n + 1, std::vector<std::uint32_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;) {
      for (std::size_t j = m; j-- > 0;) {
        l[i][j] = a[pre + i] == b[pre + j] ? l[i + 1][j + 1] + 1 : std::max(l[i + 1][j], l[i][j + 1]);
      }
    }
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        ops.push_back({' ', pre + i++, pre + j++});
      } else if (i < n && (j == m || l[i + 1][j] >= l[i][j + 1])) {
        ops.push_back({'-', pre + i++, pre + j});
      } else {
        ops.push_back({'+', pre + i, pre + j++});
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) ops.push_back({'-', pre + i, pre});
    for (std::size_t j = 0; j < m; ++j) ops.push_back({'+', pre + n, pre + j});
  }
  for (std::size_t i = 0; i < suf; ++i) ops.push_back({' ', a.size() - suf + i, b.size() - suf + i});

  std::string out = fmt::format("--- {}\n+++ {}\n", a_name, b_name);
  const std::size_t ctx = 3;
  std::size_t k = 0;
  while (k < ops.size()) {
    if (ops[k].kind == ' ') {
      ++k;
      continue;
    }
    // A hunk from k - ctx to the last change within 2*ctx of another, plus ctx.
    std::size_t start = k >= ctx ? k - ctx : 0;
    std::size_t end = k;
    std::size_t last_change = k;
    while (end < ops.size()) {
      if (ops[end].kind != ' ') last_change = end;
      if (end - last_change > 2 * ctx) break;
      ++end;
    }
    end = std::min(ops.size(), last_change + ctx + 1);
    std::size_t a_count = 0;
    std::size_t b_count = 0;
    for (std::size_t x = start; x < end; ++x) {
      if (ops[x].kind != '+') ++a_count;
      if (ops[x].kind != '-') ++b_count;
    }
    out += fmt::format("@@ -{},{} +{},{} @@\n", ops[start].a + 1, a_count, ops[start].b + 1, b_count);
    for (std::size_t x = start; x < end; ++x) {
      const auto& o = ops[x];
      out += o.kind;
      out += std::string(o.kind == '+' ? b[o.b] : a[o.a]);
      out += '\n';
    }
    k = end;
  }
  return out;
}

}  // namespace okuri
