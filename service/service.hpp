// `okuri serve`: the engine kept durable in a Store, LINE webhooks and custom
// events over HTTP, a timer loop, and a sender that drains the outbox to the
// Messaging API exactly once (X-Line-Retry-Key).
//
// Threads: HTTP handlers verify and parse a request, then hand its events to
// the one writer thread and wait; the writer takes every request queued so far,
// runs their events (and the timers due by now) through the engine, writes the
// friends they changed and the deliveries they made in one transaction (group
// commit), and only then are the requests answered 200. The sender thread
// reads the outbox on its own connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "compiler/program.hpp"
#include "runtime/engine.hpp"
#include "service/store.hpp"

namespace okuri::svc {

struct ServeOptions {
  std::string db_path;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string line_api = "https://api.line.me";  // the Messaging API base URL
  std::string channel_secret;                     // LINE_CHANNEL_SECRET
  std::string access_token;                       // LINE_CHANNEL_ACCESS_TOKEN
  std::string events_token;                       // OKURI_EVENTS_TOKEN (empty: /events is closed)
  std::size_t max_body = 1 << 20;                 // bytes
  double push_rate = 2000;                        // requests per second (LINE's default limit for push)
  int request_timeout = 15;                       // seconds to wait for the Messaging API's answer
  int max_batch = 512;                            // requests per transaction at most
  rt::EngineOptions engine;
  bool quiet = false;                             // no log lines on stderr
};

// The base64 HMAC-SHA256 of `body` with `secret`, as LINE puts in X-Line-Signature.
std::string line_signature(std::string_view secret, std::string_view body);
// Constant-time check of a received signature.
bool signature_ok(std::string_view secret, std::string_view body, std::string_view received);

// The LINE message objects (a JSON array) for a delivery's messages, with `{name}`
// interpolations filled from the friend's state and the project's links.
std::string render_messages(const Program& p, rt::Engine& e, const rt::Delivery& d);

class Service {
 public:
  Service(const Program& p, ServeOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Opens the store, loads every friend, fires overdue timers, then serves until stop().
  // Throws StoreError or std::runtime_error when it cannot start.
  void run();
  // Stops accepting requests, finishes the queued ones, commits, stops the sender. Safe from a signal-watching thread.
  void stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace okuri::svc
