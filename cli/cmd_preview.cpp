// `okuri preview`: a message as a friend will receive it — the LINE message objects the service
// would send and a readable text form — rendered by the same renderer as `serve`.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/message_for_friend.hpp"

namespace okuri::cli {

void add_preview_command(CLI::App& app, int& status) {
  struct Options {
    std::string path;
    std::vector<std::string> messages;
    std::string friend_id;
    std::string friends;
    std::string at;
    std::string format = "both";
  };
  auto o = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("preview", "Show messages as a friend will receive them (rendered LINE message objects).");
  cmd->footer(
      "Fills every {…} of the messages for one friend — from --friends (a .csv or .jsonl friends file) with\n"
      "--friend, or a friend about whom nothing is known (every value unknown, so the fallbacks show) —\n"
      "and prints the LINE message objects `okuri serve` would send (JSON), then the texts as people read them.\n"
      "Example: okuri preview examples/music_school welcome --friends friends.csv --friend U4af49806…");
  cmd->add_option("path", o->path, "Project folder or .okuri file")->required();
  cmd->add_option("messages", o->messages, "Message names (up to 5, as one send)")->required();
  cmd->add_option("--friend", o->friend_id, "The friend whose data fills the texts (needs --friends)");
  cmd->add_option("--friends", o->friends, "Friends file: .csv or .jsonl");
  cmd->add_option(
      "--at", o->at,
      "The moment of sending, for {today} and {now}: 2026-06-01, '2026-06-01 10:00' or RFC 3339 (default: now)");
  cmd->add_option("--format", o->format, "both (default), json or text")
      ->check(CLI::IsMember({"both", "json", "text"}));
  cmd->callback([o, &status] {
    auto p = compile_for_command(o->path, "preview", status);
    if (!p) return;
    auto m = render_for_friend(*p, o->messages, FriendChoice{o->friends, o->friend_id, o->at}, "preview", status);
    if (!m) return;
    if (o->format != "text") std::cout << nlohmann::json::parse(m->json).dump(2, ' ', false) << "\n";
    if (o->format == "both") std::cout << "\n";
    if (o->format != "json") std::cout << m->readable(*p);
  });
}

}  // namespace okuri::cli
