// libFuzzer target: every reader of input from outside, chosen by the first byte —
//   0 a LINE webhook body, 1 events as JSON lines, 2 a friends CSV, 3 friends as JSON lines,
//   4 a JSON message file, 5 the language server's framing and messages.
// Bad input must come back as the reader's own error, never as a crash, a hang, a leak or
// undefined behaviour; the inputs reach the sizes that once broke them (deep nesting).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "compiler/message_files.hpp"
#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "lsp/protocol.hpp"
#include "lsp/transport.hpp"
#include "runtime/event_input.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/friends_file.hpp"

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

void lsp_frames(const std::string& bytes) {
  const int fd = memfd_create("fuzz", 0);
  if (fd < 0) return;
  if (write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && lseek(fd, 0, SEEK_SET) == 0) {
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
    switch (data[0] % 6) {
      case 0: {
        okuri::rt::EventCatalog catalog(p);
        okuri::rt::EventReader reader(catalog);
        (void)reader.read_webhook(text);
        break;
      }
      case 1: {
        okuri::rt::EventCatalog catalog(p);
        okuri::rt::EventReader reader(catalog);
        (void)reader.read_jsonl("fuzz.jsonl", text);
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
        for (std::size_t i = 0; i + 1 < text.size() && cut.split_at.size() < 8; i += 1 + data[0] / 6 % 16)
          cut.split_at.push_back(i);
        std::string error_whole, error_cut;
        std::size_t rows_whole = 0, rows_cut = 0;
        try {
          rows_whole = okuri::rt::load_friends_text(store, "fuzz", text, data[0] % 6 == 3, whole).rows;
        } catch (const okuri::rt::DataError& e) {
          error_whole = e.what();
        }
        okuri::rt::FriendStore again(schema);
        try {
          rows_cut = okuri::rt::load_friends_text(again, "fuzz", text, data[0] % 6 == 3, cut).rows;
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
      default:
        lsp_frames(text);
    }
  } catch (const okuri::rt::EventError&) {
  } catch (const okuri::rt::DataError&) {
  }
  return 0;
}
