// The one renderer: what a friend reads. `okuri simulate --render`, `okuri preview`,
// `okuri explain`, `okuri test` and `okuri serve` all fill `{…}` here, from the friend's state at
// the moment of sending, so what a marketer previews is what friends receive.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/flow_plan.hpp"
#include "runtime/event_input.hpp"
#include "runtime/friend_store.hpp"
#include "stdlib/functions.hpp"

namespace okuri::rt {

// Click tracking (`okuri serve --public-url`): the URL a declared link is sent as, for one friend.
class LinkTracker {
 public:
  virtual ~LinkTracker() = default;
  // `link` is the declared link's name (stable across versions, unlike its index).
  virtual std::string url(std::string_view link, std::string_view friend_id, std::string_view target) const = 0;
};

struct RenderContext {
  const FriendStore& store;
  std::uint32_t row = 0;
  std::int64_t now = 0;  // seconds: `{today}`, `{now}`, `{friend_days}`
  const stdlib::Zone& zone;
  const InputEvent* event = nullptr;   // notifications: `{event.x}`
  const LinkTracker* links = nullptr;  // null: links as declared
  // No particular friend: what LINE's broadcast and narrowcast send to friends it chooses. The
  // friend's data reads as unknown (fallbacks), and links go as declared (nobody to count a click for).
  bool anyone = false;
};

class Renderer {
 public:
  // Parses the plan's JSON messages once.
  explicit Renderer(const plan::Plan& plan);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // A text with its `{…}` filled (an unknown value: its fallback, or nothing).
  std::string text(const plan::TextTemplate& t, const RenderContext& c) const;
  // The LINE message objects of a delivery: a JSON array, as the Messaging API takes it.
  std::string messages(const std::vector<plan::MessageId>& ids, const RenderContext& c) const;
  // The same, as text for people: one line per message (`[sticker 446/1988]`, `[flex: altText]`).
  std::string readable(const std::vector<plan::MessageId>& ids, const RenderContext& c) const;
  // Whether any of these messages reads the LINE profile (display_name, language).
  bool reads_profile(const std::vector<plan::MessageId>& ids) const;
  // Whether any of these messages reads the friend's data (`{display_name}`, `{region}`, fields):
  // then it cannot be one message for friends LINE chooses.
  bool reads_friend(const std::vector<plan::MessageId>& ids) const;
  // The first step of a flow that sends such a message (nullptr: none): a broadcast with one
  // cannot go out as LINE's own broadcast or narrowcast (the report and `okuri serve` both ask).
  const plan::Node* first_send_reading_friend(const plan::Flow& flow) const;
  // The declared links (indices into plan.links) a message carries, tracked when sent: `{link}` in
  // a text, or a JSON message's `uri` written as `{link}` or as the link's URL.
  std::vector<std::uint32_t> links_of(plan::MessageId id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A date (days since the epoch) or datetime (seconds) in one of the text formats
// (compiler/text_template.hpp): "" → 2026-05-16 [10:00], "ja" → 5月16日(土) [10:00], …
std::string format_date_value(std::int64_t days, std::string_view format);
std::string format_datetime_value(std::int64_t seconds, std::string_view format, const stdlib::Zone& zone);

}  // namespace okuri::rt
