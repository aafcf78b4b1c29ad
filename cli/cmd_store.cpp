// `okuri store copy`: an account moved between a SQLite file and PostgreSQL.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "service/store.hpp"
#include "service/store_copy.hpp"
#include "stdlib/number_text.hpp"

namespace okuri::cli {

void add_store_command(CLI::App& app, int& status) {
  auto* store = app.add_subcommand("store", "Work on an account's store (the database `okuri serve` keeps)");
  store->require_subcommand(1);
  struct Options {
    std::string from, to;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  auto* copy = store->add_subcommand(
      "copy", "Copy an account between a SQLite file and a PostgreSQL database, either way, and verify the copy");
  copy->footer(
      "Copies every friend's state (their timers are in it), the outbox (pending and past deliveries), the webhook\n"
      "event ids already processed, the LINE profiles, the project versions served and the report's figures, then\n"
      "reads both sides back and compares them table by table. Stop `okuri serve` on both first; the target must be\n"
      "empty (a SQLite file is created when missing; a PostgreSQL database gets its tables).\n"
      "Example: okuri store copy --from account.db --to postgresql://okuri@db.internal/okuri\n"
      "         okuri store copy --from postgresql://okuri@db.internal/okuri --to back.db\n"
      "See docs/scale-out.md, \"Moving an account\".");
  copy->add_option("--from", o->from, "The store to copy: a SQLite file, or postgresql://…")->required();
  copy->add_option("--to", o->to, "The empty store to copy into: a SQLite file, or postgresql://…")->required();
  copy->add_flag("--quiet", o->quiet, "No progress on stderr");
  copy->callback([o, &status] {
    Progress progress("copying", "rows", o->quiet);
    std::int64_t before = 0, last = 0;  // rows of the tables done, and of the one being copied
    std::string table_now;
    try {
      const auto r = svc::copy_store(o->from, o->to, [&](const std::string& table, std::int64_t rows) {
        if (table != table_now) before += last, table_now = table;
        last = rows;
        progress.show(0, 0, static_cast<std::size_t>(before + rows));
      });
      progress.finish();
      std::cout << "copied " << o->from << " to " << o->to << " and verified it:\n";
      for (const auto& t : r.tables) std::cout << "  " << t.name << ": " << stdlib::with_commas(t.rows) << "\n";
      std::cout << "  the engine resumes at " << r.clock << " (seconds since the epoch)\n";
      status = 0;
    } catch (const std::exception& e) {
      progress.finish();
      std::cerr << "okuri store copy: " << e.what() << "\n";
      status = 1;
    }
  });
}

}  // namespace okuri::cli
