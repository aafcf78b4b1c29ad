#include "service/inbox_event.hpp"

#include <cstdint>
#include <stdexcept>

namespace okuri::svc {

namespace {

constexpr unsigned char kVersion = 1;
constexpr unsigned char kHasReplyToken = 1, kRedelivery = 2, kStandby = 4;
constexpr unsigned char kKnownFlags = kHasReplyToken | kRedelivery | kStandby;
constexpr unsigned char kInt = 0, kText = 1;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// Zigzag: small negative numbers stay short too.
void put_signed(std::string& out, std::int64_t v) {
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0));
}

void put_text(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out += s;
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::size_t at() const { return pos_; }
  bool done() const { return pos_ == bytes_.size(); }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("inbox event: " + what + " (byte " + std::to_string(pos_) + " of " +
                             std::to_string(bytes_.size()) + ")");
  }

  unsigned char byte(const char* what) {
    if (pos_ >= bytes_.size()) fail(std::string("truncated: ") + what + " is missing");
    return static_cast<unsigned char>(bytes_[pos_++]);
  }

  std::uint64_t varint(const char* what) {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const unsigned char b = byte(what);
      // The tenth byte holds the 64th bit alone: anything more would not fit.
      if (shift == 63 && b > 1) fail(std::string(what) + " does not fit 64 bits");
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
  }

  std::int64_t signed_varint(const char* what) {
    const std::uint64_t z = varint(what);
    return static_cast<std::int64_t>((z >> 1) ^ (~(z & 1) + 1));
  }

  std::string text(const char* what) {
    const std::uint64_t n = varint(what);
    // Compared with what is left, never added to pos_: a huge length cannot wrap around.
    if (n > bytes_.size() - pos_)
      fail(std::string("truncated: ") + what + " has " + std::to_string(n) + " bytes, " +
           std::to_string(bytes_.size() - pos_) + " are left");
    std::string s(bytes_.substr(pos_, static_cast<std::size_t>(n)));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode_inbox_event(const rt::InputEvent& ev) {
  std::string out;
  out.reserve(32 + ev.friend_id.size() + ev.type.size() + ev.arg.size() + ev.webhook_event_id.size() +
              ev.origin.size() + (ev.reply_token ? ev.reply_token->size() : 0) + 16 * ev.fields.size());
  out += static_cast<char>(kVersion);
  put_signed(out, ev.time_ms);
  unsigned char flags = 0;
  if (ev.reply_token) flags |= kHasReplyToken;
  if (ev.redelivery) flags |= kRedelivery;
  if (ev.standby) flags |= kStandby;
  out += static_cast<char>(flags);
  put_text(out, ev.friend_id);
  put_text(out, ev.type);
  put_text(out, ev.arg);
  if (ev.reply_token) put_text(out, *ev.reply_token);
  put_text(out, ev.webhook_event_id);
  put_text(out, ev.origin);
  put_varint(out, ev.fields.size());
  for (const auto& [name, value] : ev.fields) {
    put_text(out, name);
    out += static_cast<char>(value.is_text ? kText : kInt);
    put_signed(out, value.i);
    put_text(out, value.text);
  }
  return out;
}

rt::InputEvent decode_inbox_event(std::string_view bytes) {
  Reader r(bytes);
  const unsigned char version = r.byte("the version byte");
  if (version != kVersion) {
    throw std::runtime_error("inbox event: version " + std::to_string(version) + " is not one this Okuri reads (" +
                             std::to_string(kVersion) + ")");
  }
  rt::InputEvent ev;
  ev.time_ms = r.signed_varint("the time");
  const unsigned char flags = r.byte("the flags");
  if (flags & ~kKnownFlags) r.fail("unknown flags " + std::to_string(flags));
  ev.redelivery = flags & kRedelivery;
  ev.standby = flags & kStandby;
  ev.friend_id = r.text("the friend id");
  ev.type = r.text("the type");
  ev.arg = r.text("the argument");
  if (flags & kHasReplyToken) ev.reply_token = r.text("the reply token");
  ev.webhook_event_id = r.text("the webhook event id");
  ev.origin = r.text("the origin");
  const std::uint64_t count = r.varint("the field count");
  for (std::uint64_t n = 0; n < count; ++n) {
    std::string name = r.text("a field's name");
    // Encoded from a map, so in strictly ascending order: anything else (a repeated name) is damage.
    if (!ev.fields.empty() && !(ev.fields.rbegin()->first < name)) r.fail("field `" + name + "` is out of order");
    rt::FieldValue v;
    const unsigned char kind = r.byte("a field's kind");
    if (kind != kInt && kind != kText) r.fail("field `" + name + "` has unknown kind " + std::to_string(kind));
    v.is_text = kind == kText;
    v.i = r.signed_varint("a field's number");
    v.text = r.text("a field's text");
    ev.fields.emplace_hint(ev.fields.end(), std::move(name), std::move(v));
  }
  if (!r.done()) r.fail("bytes left over after the event");
  return ev;
}

}  // namespace okuri::svc
