// X-Line-Signature: LINE signs each webhook body with the channel secret.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "service/webhook_signature.hpp"

namespace okuri::svc {

std::string line_signature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool signature_ok(std::string_view secret, std::string_view body, std::string_view received) {
  if (secret.empty() || received.empty()) return false;
  const std::string want = line_signature(secret, body);
  if (received.size() != want.size()) return false;
  return CRYPTO_memcmp(want.data(), received.data(), want.size()) == 0;
}

}  // namespace okuri::svc
