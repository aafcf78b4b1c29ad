#include "lsp/transport.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <optional>

namespace okuri::lsp {

Transport::Transport(int in_fd, int out_fd, std::ostream* log, bool trace)
    : in_(in_fd), out_(out_fd), log_(log), trace_(trace) {}

void Transport::log_line(std::string_view line) {
  if (log_ == nullptr) return;
  std::lock_guard lock(log_mu_);
  *log_ << line << '\n';
  log_->flush();
}

bool Transport::fill() {
  if (eof_) return false;
  // Drop what has been consumed so the buffer does not grow without bound.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(in_, chunk, sizeof chunk);
    if (n > 0) {
      buf_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    eof_ = true;
    return false;
  }
}

bool Transport::read_line(std::string& line, bool& too_long) {
  line.clear();
  too_long = false;
  for (;;) {
    const auto nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      std::size_t end = nl;
      if (end > pos_ && buf_[end - 1] == '\r') --end;
      if (end - pos_ > kMaxHeaderLine) {
        too_long = true;
      } else {
        line.assign(buf_, pos_, end - pos_);
      }
      pos_ = nl + 1;
      return true;
    }
    if (buf_.size() - pos_ > kMaxHeaderLine) {
      // Skip the overlong line without keeping it in memory.
      too_long = true;
      pos_ = buf_.size();
    }
    if (!fill()) return false;
  }
}

bool Transport::read_bytes(std::size_t n, std::string& out) {
  while (buf_.size() - pos_ < n) {
    if (!fill()) return false;
  }
  out.assign(buf_, pos_, n);
  pos_ += n;
  return true;
}

Transport::ReadResult Transport::read() {
  ReadResult r;
  std::string line;
  bool too_long = false;
  // Skip blank lines between messages (some clients send an extra "\r\n").
  do {
    if (!read_line(line, too_long)) {
      r.status = ReadStatus::Eof;
      return r;
    }
  } while (line.empty() && !too_long);
  std::optional<std::size_t> length;
  std::string error;
  for (;;) {
    if (too_long) {
      error = "header line too long";
    } else {
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        if (error.empty()) error = "malformed header line: " + line.substr(0, 80);
      } else {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value(line);
        value.remove_prefix(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
        if (name == "content-length") {
          std::size_t n = 0;
          const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
          if (ec != std::errc() || p != value.data() + value.size()) {
            if (error.empty()) error = "bad Content-Length: " + std::string(value.substr(0, 40));
          } else {
            length = n;
          }
        }
      }
    }
    if (!read_line(line, too_long)) {
      r.status = ReadStatus::Eof;
      return r;
    }
    if (line.empty() && !too_long) break;
  }
  if (error.empty() && !length) error = "missing Content-Length header";
  if (error.empty() && *length > kMaxBody) {
    error = "message body too large";
    // Skip the body so that the next header block is read in step.
    std::string skipped;
    std::size_t left = *length;
    while (left > 0) {
      const std::size_t chunk = std::min<std::size_t>(left, 1 << 20);
      if (!read_bytes(chunk, skipped)) break;
      left -= chunk;
    }
  }
  if (!error.empty()) {
    log_line("transport: " + error);
    r.status = ReadStatus::Malformed;
    r.error = error;
    return r;
  }
  if (!read_bytes(*length, r.body)) {
    log_line("transport: input ended inside a message body");
    r.status = ReadStatus::Eof;
    return r;
  }
  if (trace_) log_line("<-- " + r.body);
  r.status = ReadStatus::Message;
  return r;
}

bool Transport::input_pending() {
  if (pos_ < buf_.size()) return true;
  if (eof_) return false;
  pollfd p{in_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

bool Transport::write(std::string_view body) {
  std::string frame = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  frame += body;
  std::lock_guard lock(write_mu_);
  if (trace_) log_line("--> " + std::string(body));
  std::size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::write(out_, frame.data() + done, frame.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace okuri::lsp
