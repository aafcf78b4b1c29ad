// X-Line-Signature: LINE signs each webhook body with the channel secret.
#pragma once

#include <string>
#include <string_view>

namespace okuri::svc {

// The base64 HMAC-SHA256 of `body` with `secret`, as LINE puts in X-Line-Signature.
std::string line_signature(std::string_view secret, std::string_view body);
// Constant-time check of a received signature.
bool signature_ok(std::string_view secret, std::string_view body, std::string_view received);

}  // namespace okuri::svc
