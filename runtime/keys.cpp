// Stable identities the engine hands out: delivery keys (X-Line-Retry-Key), split buckets, and
// the time format of every output.
#include <fmt/format.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <charconv>
#include <cstring>

#include "compiler/literals.hpp"
#include "runtime/engine.hpp"

namespace okuri::rt {

std::string delivery_key(std::string_view friend_id, std::string_view flow, std::uint32_t instance,
                         std::string_view node, std::uint32_t occurrence) {
  // The hashed text: the parts with a NUL between them, the numbers in decimal. It is built on
  // the stack when it fits (nearly always: a simulation makes a key per delivery).
  const std::size_t size = friend_id.size() + flow.size() + node.size() + 2 * 10 + 4;
  char small[256];
  std::string large;
  char* const buf = size <= sizeof small ? small : (large.resize(size), large.data());
  char* at = buf;
  auto put = [&at](std::string_view s) {
    std::memcpy(at, s.data(), s.size());
    at += s.size();
  };
  auto number = [&at](std::uint32_t v) { at = std::to_chars(at, at + 10, v).ptr; };
  put(friend_id);
  *at++ = '\0';
  put(flow);
  *at++ = '\0';
  number(instance);
  *at++ = '\0';
  put(node);
  *at++ = '\0';
  number(occurrence);
  const XXH128_hash_t h = XXH3_128bits(buf, static_cast<std::size_t>(at - buf));
  std::uint8_t b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<std::uint8_t>(h.high64 >> (56 - 8 * i));
    b[8 + i] = static_cast<std::uint8_t>(h.low64 >> (56 - 8 * i));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x80);  // version 8
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // variant 10
  static const char* const kHex = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t k = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++k;
    out[k++] = kHex[b[i] >> 4];
    out[k++] = kHex[b[i] & 15];
  }
  return out;
}

int split_bucket(std::string_view friend_id, std::string_view scenario, std::string_view split_node) {
  std::string buf;
  buf.append(friend_id).push_back('\0');
  buf.append(scenario).push_back('\0');
  buf.append(split_node);
  return static_cast<int>(XXH64(buf.data(), buf.size(), 0) % 100);
}

void append_time(std::string& out, std::int64_t seconds, const stdlib::Zone& zone) {
  const std::int64_t off = zone.offset_at(seconds);
  const std::int64_t local = seconds + off;
  std::int64_t days = local / 86400;
  std::int64_t rem = local % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const CivilDate d = civil_from_days(days);
  const std::int64_t aoff = off < 0 ? -off : off;
  if (d.year < 0 || d.year > 9999 || aoff >= 100 * 3600) {
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", d.year, d.month, d.day,
                   rem / 3600, rem / 60 % 60, rem % 60, off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
    return;
  }
  // The common case digit by digit, in place: a simulation writes one or two of these per delivery.
  const std::size_t at0 = out.size();
  out += "0000-00-00T00:00:00+00:00";
  char* const p = out.data() + at0;
  auto put = [p](std::size_t at, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) p[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  put(0, d.year, 4);
  put(5, d.month, 2);
  put(8, d.day, 2);
  put(11, rem / 3600, 2);
  put(14, rem / 60 % 60, 2);
  put(17, rem % 60, 2);
  p[19] = off < 0 ? '-' : '+';
  put(20, aoff / 3600, 2);
  put(23, aoff / 60 % 60, 2);
}

std::string format_time(std::int64_t seconds, const stdlib::Zone& zone) {
  std::string out;
  append_time(out, seconds, zone);
  return out;
}

}  // namespace okuri::rt
