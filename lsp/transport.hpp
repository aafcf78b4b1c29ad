// JSON-RPC 2.0 framing over a pair of file descriptors: each message is a
// header block ("Content-Length: N", optionally "Content-Type: …", each line
// ended by "\r\n"; a bare "\n" is accepted) and an empty line, then N bytes of
// body. The transport moves bodies; it does not parse JSON (protocol.hpp does).
//
// Reading happens on one thread; writing may happen from any thread (writes
// are serialised, so frames never interleave). A malformed header block is
// reported as ReadStatus::Malformed with a reason and the reader resynchronises
// at the next header block; it never throws for bad input.
#pragma once

#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace okuri::lsp {

class Transport {
 public:
  // Does not own the descriptors. `log`, when set, receives one line per
  // problem (and, with `trace`, every message in and out).
  Transport(int in_fd, int out_fd, std::ostream* log = nullptr, bool trace = false);

  enum class ReadStatus { Message, Malformed, Eof };
  struct ReadResult {
    ReadStatus status = ReadStatus::Eof;
    std::string body;   // Message
    std::string error;  // Malformed: why
  };
  // Blocks until a whole message, a malformed header block, or the end of input.
  ReadResult read();
  // True when the start of another message is already available without
  // blocking (buffered, or readable on the descriptor).
  bool input_pending();
  // Frames and writes one body. Returns false when the output is closed.
  bool write(std::string_view body);

  // Bodies larger than this are refused (the bytes are skipped).
  static constexpr std::size_t kMaxBody = 64u << 20;
  static constexpr std::size_t kMaxHeaderLine = 8192;

  void log_line(std::string_view line);

 private:
  int in_;
  int out_;
  std::ostream* log_;
  bool trace_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  std::mutex write_mu_;
  std::mutex log_mu_;

  bool fill();  // reads more bytes into buf_; false at end of input
  // One header line without its terminator; nullopt at end of input.
  bool read_line(std::string& line, bool& too_long);
  bool read_bytes(std::size_t n, std::string& out);
};

}  // namespace okuri::lsp
