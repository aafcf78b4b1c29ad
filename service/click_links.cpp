#include "service/click_links.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <stdexcept>
#include <vector>

namespace okuri::svc {
namespace {

constexpr std::size_t kNonce = 12, kTag = 16;
constexpr unsigned char kVersion = 1;

std::string base64url(const unsigned char* p, std::size_t n) {
  static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t v =
        (std::uint32_t{p[i]} << 16) | (i + 1 < n ? std::uint32_t{p[i + 1]} << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    if (i + 1 < n) out += kAlphabet[(v >> 6) & 63];
    if (i + 2 < n) out += kAlphabet[v & 63];
  }
  return out;
}

std::optional<std::vector<unsigned char>> unbase64url(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (s.size() % 4 == 1) return std::nullopt;
  std::vector<unsigned char> out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

}  // namespace

ClickLinks::ClickLinks(std::string public_url, std::string_view key) : base_(std::move(public_url)) {
  if (key.empty()) throw std::invalid_argument("OKURI_LINK_KEY is empty");
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), key_);
}

ClickLinks::~ClickLinks() { OPENSSL_cleanse(key_, sizeof key_); }

std::string ClickLinks::url(std::string_view link, std::string_view friend_id, std::string_view) const {
  return base_ + "/l/" + seal(friend_id, link);
}

std::string ClickLinks::seal(std::string_view friend_id, std::string_view link) const {
  // Plaintext: version, the friend id's length, the friend id, the link name.
  std::vector<unsigned char> plain;
  plain.push_back(kVersion);
  plain.push_back(static_cast<unsigned char>(std::min<std::size_t>(friend_id.size(), 255)));
  plain.insert(plain.end(), friend_id.begin(),
               friend_id.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(friend_id.size(), 255)));
  plain.insert(plain.end(), link.begin(), link.end());
  std::vector<unsigned char> out(kNonce + plain.size() + kTag);
  if (RAND_bytes(out.data(), static_cast<int>(kNonce)) != 1)
    throw std::runtime_error("no randomness for a click token");
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_, out.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data() + kNonce, &len, plain.data(), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTag),
                          out.data() + kNonce + plain.size()) != 1) {
    throw std::runtime_error("sealing a click token failed");
  }
  return base64url(out.data(), out.size());
}

std::optional<ClickToken> ClickLinks::open(std::string_view token) const {
  if (token.size() > 512) return std::nullopt;
  auto raw = unbase64url(token);
  if (!raw || raw->size() < kNonce + kTag + 2) return std::nullopt;
  // One spelling per token: a last character that differs only in its unused bits decodes to
  // the same bytes, and is refused, so that no two URLs count as the same click.
  if (base64url(raw->data(), raw->size()) != token) return std::nullopt;
  const std::size_t n = raw->size() - kNonce - kTag;
  std::vector<unsigned char> plain(n + 16);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_, raw->data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, raw->data() + kNonce, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTag), raw->data() + kNonce + n) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &fin) != 1) {
    return std::nullopt;  // not sealed with this key, or altered
  }
  plain.resize(static_cast<std::size_t>(len + fin));
  if (plain.size() < 2 || plain[0] != kVersion || plain[1] + 2u > plain.size()) return std::nullopt;
  ClickToken t;
  t.friend_id.assign(plain.begin() + 2, plain.begin() + 2 + plain[1]);
  t.link.assign(plain.begin() + 2 + plain[1], plain.end());
  return t;
}

bool is_link_preview_agent(std::string_view ua) {
  std::string lower(ua);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty()) return true;                               // browsers always say who they are
  static const char* const kAgents[] = {"facebookexternalhit",  // LINE's and Facebook's link previews
                                        "line-poker",           // LINE's preview fetcher
                                        "twitterbot",
                                        "slackbot",
                                        "discordbot",
                                        "telegrambot",
                                        "whatsapp",
                                        "skypeuripreview",
                                        "linkedinbot",
                                        "googlebot",
                                        "bingbot",
                                        "applebot",
                                        "yahoo! slurp",
                                        "bot/",
                                        "bot;",
                                        "crawler",
                                        "spider",
                                        "preview",
                                        "curl/",
                                        "wget/",
                                        "python-requests",
                                        "go-http-client",
                                        "headlesschrome"};
  for (const char* a : kAgents) {
    if (lower.find(a) != std::string::npos) return true;
  }
  return false;
}

std::string with_query(std::string_view target, std::string_view extra) {
  if (extra.empty()) return std::string(target);
  const auto hash = target.find('#');
  const std::string_view head = target.substr(0, hash);
  const std::string_view frag = hash == std::string_view::npos ? std::string_view() : target.substr(hash);
  std::string out(head);
  if (head.find('?') == std::string_view::npos) {
    out += '?';
  } else if (head.back() != '?' && head.back() != '&') {
    out += '&';
  }
  out += extra;
  out += frag;
  return out;
}

}  // namespace okuri::svc
