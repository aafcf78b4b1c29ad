// `okuri preview`: a message as a friend will receive it — the LINE message objects the service
// would send and a readable text form — rendered by the same renderer as `serve`.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "compiler/literals.hpp"
#include "runtime/engine.hpp"
#include "runtime/event_input.hpp"

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
    if (!o->friend_id.empty() && o->friends.empty()) {
      std::cerr << "okuri preview: --friend needs --friends (the file that holds the friend's data)\n";
      status = 2;
      return;
    }
    rt::Engine e(*p, rt::EngineOptions{});
    std::int64_t at = std::time(nullptr);
    if (!o->at.empty()) {
      std::optional<std::int64_t> t;
      if (auto ms = rt::parse_rfc3339_ms(o->at)) t = *ms / 1000;
      if (!t) {
        if (auto dt = parse_datetime(o->at)) t = local_to_utc_seconds(*dt, p->account.timezone);
      }
      if (!t) {
        if (auto d = parse_date(o->at)) t = local_to_utc_seconds(CivilDateTime{*d, 0}, p->account.timezone);
      }
      if (!t) {
        std::cerr << "okuri preview: --at `" << o->at
                  << "` is not a date or time (2026-06-01, '2026-06-01 10:00' or RFC 3339)\n";
        status = 2;
        return;
      }
      at = *t;
    }
    e.start_at(at);
    if (!o->friends.empty()) {
      try {
        rt::load_friends(e.store(), o->friends);
      } catch (const rt::DataError& x) {
        std::cerr << "okuri: " << x.what() << "\n";
        status = 2;
        return;
      }
    }
    std::uint32_t row = 0;
    if (!o->friend_id.empty()) {
      auto r = e.store().find(o->friend_id);
      if (!r) {
        std::cerr << "okuri preview: no friend `" << o->friend_id << "` in " << o->friends << "\n";
        status = 2;
        return;
      }
      row = *r;
    } else {
      row = e.friend_row("(preview)");
    }
    std::vector<plan::MessageId> ids;
    for (const auto& name : o->messages) {
      const auto& names = e.schema().messages;
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        std::cerr << "okuri preview: no message `" << name << "` in the project\n";
        status = 2;
        return;
      }
      ids.push_back(static_cast<plan::MessageId>(it - names.begin()));
    }
    const std::string rendered = e.render(ids, row);
    if (o->format != "text") std::cout << nlohmann::json::parse(rendered).dump(2, ' ', false) << "\n";
    if (o->format != "json") {
      const stdlib::Zone zone(p->account.timezone.c_str());
      const rt::RenderContext ctx{e.store(), row, e.now(), zone, nullptr, nullptr};
      if (o->format == "both") std::cout << "\n";
      std::cout << e.renderer().readable(ids, ctx);
    }
  });
}

}  // namespace okuri::cli
