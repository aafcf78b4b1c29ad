// `okuri send-test`: one message, rendered for a chosen friend's data, pushed to the operator's own
// LINE account through the same Messaging API client as `okuri serve` — the test send marketers
// make before every campaign goes live.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "cli/commands.hpp"
#include "cli/message_for_friend.hpp"
#include "service/line_api.hpp"
#include "service/profile_fetcher.hpp"
#include "service/request_intake.hpp"

namespace okuri::cli {

namespace {

// A random UUID (version 4): the retry key of this one push, kept across its retries.
std::string random_uuid() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string s = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (auto& c : s) {
    if (c == 'x') c = "0123456789abcdef"[hex(rd)];
    if (c == 'y') c = "89ab"[hex(rd) & 3];
  }
  return s;
}

}  // namespace

void add_send_test_command(CLI::App& app, int& status) {
  struct Options {
    std::string path;
    std::vector<std::string> messages;
    std::string to;
    std::string as;
    std::string friends;
    std::string at;
    std::string line_api = "https://api.line.me";
    int timeout = 15;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("send-test",
                                 "Push messages, rendered for a friend, to your own LINE account before they go live.");
  cmd->footer(
      "Renders the messages exactly as `okuri serve` would for one friend (--as ID --friends F; without them, for a\n"
      "friend about whom nothing is known, so the fallbacks show), prints them, and pushes them to --to, your own\n"
      "LINE user id (LINE Developers console → your channel → Basic settings → Your user ID), with\n"
      "LINE_CHANNEL_ACCESS_TOKEN from the environment. Nothing is recorded and no friend's state changes.\n"
      "Example: okuri send-test examples/music_school welcome --to U4af4980629… --as U8a1… --friends friends.csv");
  cmd->add_option("path", o->path, "Project folder or .okuri file")->required();
  cmd->add_option("messages", o->messages, "Message names (up to 5, as one send)")->required();
  cmd->add_option("--to", o->to, "Your LINE user id: U followed by 32 hexadecimal digits")->required();
  cmd->add_option("--as,--friend", o->as, "The friend whose data fills the texts (needs --friends)");
  cmd->add_option("--friends", o->friends, "Friends file: .csv or .jsonl");
  cmd->add_option("--at", o->at, "The moment of sending, for {today} and {now} (default: now)");
  cmd->add_option("--line-api", o->line_api, "Messaging API base URL (default https://api.line.me)");
  cmd->add_option("--line-timeout", o->timeout, "Seconds to wait for LINE's answer (default 15)");
  cmd->callback([o, &status] {
    if (!svc::is_line_user_id(o->to)) {
      std::cerr << "okuri send-test: --to `" << o->to
                << "` is not a LINE user id (U followed by 32 hexadecimal digits; find yours in the LINE Developers "
                   "console, under Basic settings → Your user ID)\n";
      status = 2;
      return;
    }
    const char* token = std::getenv("LINE_CHANNEL_ACCESS_TOKEN");
    if (token == nullptr || *token == '\0') {
      std::cerr
          << "okuri send-test: LINE_CHANNEL_ACCESS_TOKEN is not set (Messaging API channel → Channel access token)\n";
      status = 2;
      return;
    }
    if (o->messages.size() > 5) {
      std::cerr << "okuri send-test: LINE takes at most 5 messages in one push, not " << o->messages.size() << "\n";
      status = 2;
      return;
    }
    auto p = compile_for_command(o->path, "send-test", status);
    if (!p) return;
    auto m = render_for_friend(*p, o->messages, FriendChoice{o->friends, o->as, o->at}, "send-test", status);
    if (!m) return;
    std::cout << m->readable(*p);
    svc::LineApi api(o->line_api, token, o->timeout);
    const std::string key = random_uuid();
    // Retried like the service's pushes, with the same retry key: LINE delivers it at most once.
    for (int attempt = 1;; ++attempt) {
      const auto a = api.push(o->to, m->json, key, "");
      if (a.status == 200 || a.status == 409) {
        std::cout << fmt::format("\nsent to {} ({} message{}{})\n", o->to, m->ids.size(), m->ids.size() == 1 ? "" : "s",
                                 o->as.empty() ? "" : ", rendered for " + o->as);
        return;
      }
      const bool again = a.status == 0 || a.status >= 500 || (a.status == 429 && !a.monthly_limit());
      if (!again || attempt == 3) {
        std::cerr << fmt::format("okuri send-test: LINE {}{}\n", a.describe(),
                                 a.status == 400 ? " (is --to a friend of this channel's account?)" : "");
        status = 1;
        return;
      }
      std::this_thread::sleep_for(
          std::chrono::seconds(a.retry_after ? std::min<long long>(*a.retry_after, 10) : attempt));
    }
  });
}

}  // namespace okuri::cli
