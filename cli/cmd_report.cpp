// okuri report: the HTML report of a running account, from the database `okuri serve` writes.
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/html_output.hpp"
#include "runtime/report.hpp"
#include "service/account_snapshot.hpp"
#include "service/project_version.hpp"
#include "service/store.hpp"

namespace okuri::cli {

void add_report_command(CLI::App& app, int& status) {
  struct Options {
    std::string path;
    std::string db;
    std::string store;
    std::string out;
    std::string json;
    std::string lang;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("report", "The HTML report of a running account, from its database.");
  cmd->footer(
      "Reads the database `okuri serve` writes (read-only, in one read transaction: safe while serve runs)\n"
      "and writes the same page as `okuri simulate --html` (docs/report.md): flowcharts with each step's\n"
      "counts since the version being served started, friends waiting at each step, messages as friends\n"
      "see them with what went out and the tracked clicks, A/B results, and the LINE messages used by month.\n"
      "The report is of the version being served, as the database recorded it; PATH names the project.\n"
      "With several workers, --store postgresql://… reads the shared database and adds up every worker's figures.\n"
      "Example: okuri report examples/music_school --db account.db -o report.html");
  cmd->add_option("path", o->path, "The project folder or .okuri file being served")->required();
  auto* db = cmd->add_option("--db", o->db, "The SQLite database `okuri serve --db` writes")->check(CLI::ExistingFile);
  auto* store =
      cmd->add_option("--store", o->store, "The PostgreSQL database `okuri serve --store` writes (postgresql://…)");
  db->excludes(store);
  store->excludes(db);
  cmd->add_option("-o,--output", o->out, "Write the HTML page to this file")->required();
  cmd->add_option("--json", o->json, "Also write the report as JSON (as `okuri simulate --report` does)");
  cmd->add_option("--lang", o->lang,
                  "The page's language: ja or en (default: ja when the project's messages are Japanese)")
      ->check(CLI::IsMember({"ja", "en"}));
  cmd->callback([o, &status] {
    if (o->db.empty() && o->store.empty()) {
      std::cerr << "okuri report: give the account's database: --db FILE (SQLite) or --store postgresql://…\n";
      status = 2;
      return;
    }
    if (!o->store.empty()) o->db = svc::pg_url_shown(o->store);  // how it is named in messages
    svc::AccountSnapshot snapshot;
    try {
      snapshot = o->store.empty() ? svc::read_account(o->db) : svc::read_account_postgres(o->store);
    } catch (const std::exception& e) {
      std::cerr << "okuri report: " << e.what() << "\n";
      status = 2;
      return;
    }
    if (snapshot.shape == 0) {
      std::cerr << "okuri report: " << o->db << " has not served a project yet: nothing to report\n";
      status = 2;
      return;
    }
    // The version being served, as the database recorded it; else the project, when it is that version.
    std::unique_ptr<Program> p;
    if (!snapshot.sources.empty()) {
      p = require_no_errors(svc::program_from(snapshot.sources), "report", status);
    } else {
      p = compile_for_command(o->path, "report", status);
    }
    if (!p) return;
    auto e = svc::engine_of(snapshot, *p);
    if (svc::project_shape(*e) != snapshot.shape) {
      std::cerr << "okuri report: " << o->db << " was written by another version of the project than " << o->path
                << ", and does not hold that version's sources: report from the version being served\n";
      status = 2;
      return;
    }
    if (auto served = compile_for_command(o->path, "report", status); served) {
      rt::Engine probe(*served, rt::EngineOptions{});
      if (svc::project_shape(probe) != snapshot.shape) {
        std::cerr << "okuri report: note: " << o->path
                  << " differs from the version being served; the report is of the served one\n";
      }
    } else {
      status = 0;  // the served version is what the report needs; PATH only names it
    }
    const auto deliveries = svc::deliveries_of(snapshot, *e);
    const auto clicks = svc::clicks_of(*e);
    const stdlib::Zone zone(p->account.timezone.c_str());
    rt::ReportOptions ro;
    ro.from = snapshot.clock;
    for (const auto& r : snapshot.deliveries) ro.from = std::min(ro.from, r.created > 0 ? r.created : ro.from);
    ro.to = snapshot.clock;
    const rt::ReportTally tally = rt::tally_of(*e, deliveries, &clicks, ro.to, zone);
    ro.tally = &tally;
    ro.blocks_known = false;
    const std::string json = rt::report_json(*e, ro, zone);
    if (!o->json.empty() && !write_output(o->json, json)) {
      std::cerr << "okuri report: cannot write the report to " << o->json << "\n";
      status = 2;
      return;
    }
    report::HtmlOptions ho;
    if (!o->lang.empty()) ho.ja = o->lang == "ja";
    ho.title = project_title(o->path);
    ho.tally = &tally;
    const bool ja = ho.ja.value_or(report::speaks_japanese(e->plan()));
    ho.source = fmt::format(fmt::runtime(ja ? "稼働中のアカウント（{}、{} 時点）" : "a running account ({}, as of {})"),
                            o->db, rt::format_time(snapshot.clock, zone));
    if (!write_html_report(*e, json, ho, o->out, "report", status)) return;
    std::cerr << fmt::format("okuri report: {} friends, {} deliveries; wrote {}\n", e->store().size(),
                             deliveries.size(), o->out);
  });
}

}  // namespace okuri::cli
