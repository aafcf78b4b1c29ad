// libFuzzer target: every reader of input from outside, chosen by the first byte —
//   0 a LINE webhook body through the /webhook handler's own checks (request_intake.cpp), signed
//     with a fixed channel secret (one input in four carries a wrong signature instead),
//   1 events as JSON lines through the /events handler's checks, 2 a friends CSV, 3 friends as
//   JSON lines, 4 a JSON message file, 5 the language server's framing and messages,
//   6 a whole language server session: framing, lifecycle, and every request's dispatch.
// Bad input must come back as the reader's own error, never as a crash, a hang, a leak or
// undefined behaviour; the inputs reach the sizes that once broke them (deep nesting).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/message_files.hpp"
#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "lsp/protocol.hpp"
#include "lsp/server.hpp"
#include "lsp/transport.hpp"
#include "runtime/event_input.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/friends_file.hpp"
#include "service/request_intake.hpp"
#include "service/webhook_signature.hpp"

namespace {

// A project with a custom event, every kind of field and a link: the readers check input against it.
const okuri::Program& project() {
  static const std::unique_ptr<okuri::Program> p = okuri::compile_sources(
      "/nonexistent", {{"fuzz.okuri",
                        "event reserved { at: datetime, plan: one_of(trial, annual), n: int }\n"
                        "field visits: int = 0\nfield memo: text\nfield likes: set_of(knit, coat)\nfield due: date\n"
                        "tag vip\nscore points\nlink lp \"https://example.com\"\n"}});
  return *p;
}

// The bytes as a file descriptor to read from (-1 when the system refuses).
int bytes_fd(const std::string& bytes) {
  const int fd = memfd_create("fuzz", 0);
  if (fd < 0) return -1;
  if (write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// What the /webhook and /events handlers answer must be one of their documented answers.
void check_intake(const okuri::svc::Intake& in, bool signed_right) {
  if (in.status == 401 && (signed_right || !in.events.empty())) __builtin_trap();
  if (in.status != 0 && in.status != 400 && in.status != 401) __builtin_trap();
  if (in.status == 0 && !signed_right) __builtin_trap();
  if (in.status == 400 && !nlohmann::json::accept(in.body)) __builtin_trap();  // the reason is always readable
  for (const auto& ev : in.events) {
    if (!okuri::svc::is_line_user_id(ev.friend_id)) __builtin_trap();
  }
}

// One language server session over the bytes, its answers written to /dev/null.
void lsp_session(const std::string& bytes) {
  static const int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int fd = bytes_fd(bytes);
  if (fd < 0) return;
  {
    okuri::lsp::Transport t(fd, out);
    okuri::lsp::ServerOptions o;
    o.debounce = std::chrono::milliseconds(0);
    okuri::lsp::Server server(t, o);
    (void)server.run();
  }
  close(fd);
}

void lsp_frames(const std::string& bytes) {
  const int fd = bytes_fd(bytes);
  if (fd >= 0) {
    okuri::lsp::Transport t(fd, -1);
    for (;;) {
      auto r = t.read();
      if (r.status == okuri::lsp::Transport::ReadStatus::Eof) break;
      if (r.status != okuri::lsp::Transport::ReadStatus::Message) continue;
      try {
        (void)okuri::lsp::parse_message(r.body);
      } catch (const okuri::lsp::ProtocolError&) {
      }
    }
  }
  close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const okuri::Program& p = project();
  try {
    switch (data[0] % 7) {
      case 0: {
        static const okuri::rt::EventCatalog catalog(p);
        static const std::string secret = "fuzz-channel-secret";
        const bool signed_right = data[0] / 7 % 4 != 3;
        const std::string signature =
            signed_right ? okuri::svc::line_signature(secret, text) : okuri::svc::line_signature("another", text);
        check_intake(okuri::svc::take_webhook(catalog, secret, signature, text), signed_right);
        break;
      }
      case 1: {
        static const okuri::rt::EventCatalog catalog(p);
        check_intake(okuri::svc::take_events(catalog, text), true);
        break;
      }
      case 2:
      case 3: {
        static const okuri::ir::Schema schema = okuri::ir::make_schema(p);
        okuri::rt::FriendStore store(schema);
        // Read once whole, and once cut into chunks at places the input chooses, on two threads:
        // the store and the error must be the same.
        okuri::rt::FriendsLoadOptions whole;
        whole.threads = 1;
        okuri::rt::FriendsLoadOptions cut;
        cut.threads = 2;
        for (std::size_t i = 0; i + 1 < text.size() && cut.split_at.size() < 8; i += 1 + data[0] / 7 % 16)
          cut.split_at.push_back(i);
        std::string error_whole, error_cut;
        std::size_t rows_whole = 0, rows_cut = 0;
        try {
          rows_whole = okuri::rt::load_friends_text(store, "fuzz", text, data[0] % 7 == 3, whole).rows;
        } catch (const okuri::rt::DataError& e) {
          error_whole = e.what();
        }
        okuri::rt::FriendStore again(schema);
        try {
          rows_cut = okuri::rt::load_friends_text(again, "fuzz", text, data[0] % 7 == 3, cut).rows;
        } catch (const okuri::rt::DataError& e) {
          error_cut = e.what();
        }
        if (error_whole != error_cut || rows_whole != rows_cut || store.size() != again.size()) __builtin_trap();
        for (std::uint32_t r = 0; r < store.size(); ++r) {
          if (store.id_of(r) != again.id_of(r) || store.age[r] != again.age[r] || store.score[r] != again.score[r])
            __builtin_trap();
        }
        break;
      }
      case 4:
        (void)okuri::check_message_json("fuzz.json", text);
        break;
      case 5:
        lsp_frames(text);
        break;
      default:
        lsp_session(text);
    }
  } catch (const okuri::rt::EventError&) {
  } catch (const okuri::rt::DataError&) {
  }
  return 0;
}
