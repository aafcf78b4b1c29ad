// Click tracking (`okuri serve --public-url`): every declared link goes out as a redirect URL on
// the account's own host, `https://HOST/l/TOKEN`. The token is sealed with AES-256-GCM under a key
// from the environment (OKURI_LINK_KEY): it names the friend and the link, but shows neither
// (the LINE user id is never in clear), cannot be forged or altered without the key, and a fresh
// random nonce makes every token different, so tokens cannot be enumerated or linked together.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "runtime/render.hpp"

namespace okuri::svc {

struct ClickToken {
  std::string friend_id;
  std::string link;  // the declared link's name
};

class ClickLinks final : public rt::LinkTracker {
 public:
  // `public_url`: the base the redirects live under (https://example.com or https://example.com/okuri);
  // `key`: any secret text (it is hashed into the AES key). Throws std::invalid_argument on an empty key.
  ClickLinks(std::string public_url, std::string_view key);
  ~ClickLinks() override;
  ClickLinks(const ClickLinks&) = delete;
  ClickLinks& operator=(const ClickLinks&) = delete;

  std::string url(std::string_view link, std::string_view friend_id, std::string_view target) const override;
  std::string seal(std::string_view friend_id, std::string_view link) const;
  // nullopt for anything not sealed with this key (forged, altered, truncated, garbage).
  std::optional<ClickToken> open(std::string_view token) const;

 private:
  std::string base_;
  unsigned char key_[32];
};

// Link-preview fetchers (LINE's own, and those of other apps a link is pasted into) and
// crawlers open links nobody clicked: their requests are redirected but not counted.
bool is_link_preview_agent(std::string_view user_agent);

// The target with the click request's own query appended (`?a=1` + `b=2` → `?a=1&b=2`), keeping
// a fragment at the end.
std::string with_query(std::string_view target, std::string_view extra_query);

}  // namespace okuri::svc
