#include "runtime/csv_lines.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace okuri::rt::friends_detail {
namespace {

// Bits set in a 16-bit mask, by hand: the baseline x86-64 has no popcount instruction, and the
// library call it would get costs more than this.
std::size_t popcount16(unsigned x) {
  x = x - ((x >> 1) & 0x5555u);
  x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
  x = (x + (x >> 4)) & 0x0F0Fu;
  return (x + (x >> 8)) & 0x1Fu;
}

}  // namespace

bool blank(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// Sixteen bytes at a time: each byte's match subtracted into sixteen
// byte counters, summed before they could overflow.
std::size_t count_newlines(std::string_view bytes) {
  std::size_t n = 0, i = 0;
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
  while (bytes.size() - i >= 16) {
    __m128i counts = zero;
    for (int k = 0; k < 255 && bytes.size() - i >= 16; ++k, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes.data() + i));
      counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(v, lf));
    }
    const __m128i sums = _mm_sad_epu8(counts, zero);  // two 64-bit sums of eight counters each
    n += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
         static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < bytes.size(); ++i) n += bytes[i] == '\n' ? 1 : 0;
  return n;
}

// Only a line starting with a space, a tab, a CR or its newline can be blank:
// those few are looked at one by one, the rest counted sixteen bytes at a time.
void count_rows(std::string_view bytes, std::size_t& rows, std::size_t& newlines) {
  auto may_be_blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::size_t nl = 0, blanks = 0;
  auto check = [&](std::size_t start) {  // the line starting there
    const auto e = bytes.find('\n', start);
    if (blank(bytes.substr(start, (e == std::string_view::npos ? bytes.size() : e) - start))) ++blanks;
  };
  if (!bytes.empty() && may_be_blank(bytes[0])) check(0);
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n'), sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t'), cr = _mm_set1_epi8('\r');
  bool carry = false;  // the previous block's last byte was a newline
  for (; bytes.size() - i >= 16; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes.data() + i));
    const __m128i is_lf = _mm_cmpeq_epi8(v, lf);
    const auto lfs = static_cast<unsigned>(_mm_movemask_epi8(is_lf));
    nl += popcount16(lfs);
    const auto white = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
        _mm_or_si128(is_lf, _mm_cmpeq_epi8(v, sp)), _mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, cr)))));
    // Lines starting in this block: after each newline (the previous block's last one included).
    for (unsigned starts = ((lfs << 1) | (carry ? 1u : 0u)) & 0xFFFFu & white; starts != 0; starts &= starts - 1) {
      check(i + static_cast<std::size_t>(__builtin_ctz(starts)));
    }
    carry = (lfs & 0x8000u) != 0;
  }
  if (carry && i < bytes.size() && may_be_blank(bytes[i])) check(i);
#endif
  for (; i < bytes.size(); ++i) {
    if (bytes[i] != '\n') continue;
    ++nl;
    if (i + 1 < bytes.size() && may_be_blank(bytes[i + 1])) check(i + 1);
  }
  const std::size_t lines = nl + (!bytes.empty() && bytes.back() != '\n' ? 1 : 0);
  rows += lines - blanks;
  newlines += nl;
}

bool split_csv(std::string_view line, std::vector<std::string_view>& out, std::deque<std::string>& scratch) {
  out.clear();
  // The common line has no quote and no CR: one pass, cutting at commas.
  const char* p = line.data();
  const char* const end = p + line.size();
  const char* cell = p;
  bool plain = true;
#if defined(__SSE2__)
  // Sixteen bytes at a time: a mask of the commas, and whether a quote or a CR is among them.
  const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"'), cr = _mm_set1_epi8('\r');
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, cr))) != 0) break;
    for (auto commas = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma))); commas != 0;
         commas &= commas - 1) {
      const char* at = p + __builtin_ctz(commas);
      out.emplace_back(cell, static_cast<std::size_t>(at - cell));
      cell = at + 1;
    }
  }
#endif
  for (; p != end; ++p) {
    const char c = *p;
    if (c == ',') {
      out.emplace_back(cell, static_cast<std::size_t>(p - cell));
      cell = p + 1;
    } else if (c == '"' || c == '\r') {
      plain = false;
      break;
    }
  }
  if (plain) {
    out.emplace_back(cell, static_cast<std::size_t>(end - cell));
    return true;
  }
  out.clear();
  std::size_t i = 0;
  std::size_t used = 0;
  while (true) {
    if (scratch.size() <= used) scratch.resize(used + 1);
    std::string& cur = scratch[used++];
    cur.clear();
    bool quoted = false, was_quoted = false;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur.push_back('"');
            ++i;
          } else {
            quoted = false;
          }
        } else {
          cur.push_back(c);
        }
      } else if (c == '"' && cur.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else if (c == ',') {
        break;
      } else if (c != '\r') {
        cur.push_back(c);
      }
    }
    if (quoted) return false;
    out.push_back(cur);
    if (i >= line.size()) return true;
    ++i;  // past the comma
  }
}

}  // namespace okuri::rt::friends_detail
