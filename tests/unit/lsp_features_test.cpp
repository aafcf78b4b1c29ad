#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "compiler/query.hpp"
#include "compiler/workspace.hpp"
#include "lsp/features.hpp"
#include "lsp/hover_text.hpp"

using namespace okuri;
using namespace okuri::lsp;

namespace {

const std::string kDecls =
    "# 宣言\n"
    "tag 予約中, キャンセル歴あり\n"
    "link 予約ページ \"https://example.com/r\"\n"
    "# 次回の予約日時\n"
    "field appointment_at: datetime\n"
    "field plan_kind: one_of(trial, monthly)\n"
    "event booked { at: datetime, course: text }\n"
    "segment 関東 = region in [tokyo, kanagawa]\n"
    "message welcome text \"ようこそ → {予約ページ}\"\n"
    "message reminder text \"明日です\"\n";

const std::string kScenarios =
    "on booked {\n"
    "  tag 予約中\n"
    "  set appointment_at = event.at\n"
    "}\n"
    "scenario follow {\n"
    "  start on friend_added\n"
    "  stop when tagged(予約中)\n"
    "  send welcome\n"
    "  step again {\n"
    "    wait 1d\n"
    "    send reminder\n"
    "  }\n"
    "  if 関東 and plan_kind == trial { goto again }\n"
    "  goal clicked(予約ページ) within 7d\n"
    "}\n";

struct Project {
  std::unique_ptr<Program> program;
  DocumentView view(const std::string& path) const {
    return DocumentView{program.get(), nullptr, *query::file_index(*program, path)};
  }
  std::uint32_t at(const std::string& path, const std::string& needle, std::size_t nth = 0) const {
    const auto& text = program->sources.file(*query::file_index(*program, path)).text;
    std::size_t pos = text.find(needle);
    while (nth-- > 0 && pos != std::string::npos) pos = text.find(needle, pos + 1);
    REQUIRE(pos != std::string::npos);
    return static_cast<std::uint32_t>(pos);
  }
};

Project make(std::string decls = kDecls, std::string scenarios = kScenarios) {
  return Project{compile_sources(".", {{"decls.okuri", std::move(decls)}, {"scenarios.okuri", std::move(scenarios)}})};
}

std::vector<std::string> labels(const CompletionResult& r) {
  std::vector<std::string> out;
  for (const auto& i : r.items) out.push_back(i.label);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("lsp: the test project checks clean", "[lsp][features]") {
  const auto p = make();
  for (const auto& d : p.program->diags.all()) INFO(d.message);
  CHECK(p.program->diags.error_count() == 0);
}

TEST_CASE("lsp: diagnostics are the Program's, per file, with codes and notes", "[lsp][features]") {
  const auto p = make(kDecls + "tag 予約中\n", kScenarios + "on friend_added { tag 予約済 }\n");
  const auto files = diagnostics(*p.program);
  REQUIRE(files.size() == 2);
  std::size_t total = 0;
  for (const auto& f : files) total += f.items.size();
  CHECK(total == p.program->diags.all().size());
  const auto& scen = files[1];
  CHECK(scen.path == "scenarios.okuri");
  REQUIRE(scen.items.size() == 1);
  CHECK(scen.items[0].code == "E002");
  CHECK(scen.items[0].message == "unknown tag `予約済`; did you mean `予約中`?");
  CHECK(scen.items[0].begin == p.at("scenarios.okuri", "予約済"));
  const auto& decls = files[0];
  const auto dup =
      std::find_if(decls.items.begin(), decls.items.end(), [](const FileDiagnostic& d) { return d.code == "E004"; });
  REQUIRE(dup != decls.items.end());
  REQUIRE(dup->notes.size() == 1);
  CHECK(dup->notes[0].where->path == "decls.okuri");
  CHECK(dup->notes[0].where->begin == p.at("decls.okuri", "予約中"));
}

TEST_CASE("lsp: hover: fields with their doc, segments with their definition, events with their fields",
          "[lsp][features]") {
  const auto p = make();
  const auto v = p.view("scenarios.okuri");
  auto h = hover(v, p.at("scenarios.okuri", "appointment_at") + 3);
  REQUIRE(h);
  CHECK(h->markdown.find("field appointment_at: datetime") != std::string::npos);
  CHECK(h->markdown.find("次回の予約日時") != std::string::npos);
  CHECK(h->markdown.find("type: datetime") != std::string::npos);
  CHECK(h->begin == p.at("scenarios.okuri", "appointment_at"));

  h = hover(v, p.at("scenarios.okuri", "関東"));
  REQUIRE(h);
  CHECK(h->markdown.find("segment 関東 = region in [tokyo, kanagawa]") != std::string::npos);

  h = hover(v, p.at("scenarios.okuri", "booked") + 1);
  REQUIRE(h);
  CHECK(h->markdown.find("event booked { at: datetime, course: text }") != std::string::npos);

  h = hover(v, p.at("scenarios.okuri", "friend_added"));
  REQUIRE(h);
  CHECK(h->markdown.find("event friend_added { source: text }") != std::string::npos);
  CHECK(h->markdown.find("reply token") != std::string::npos);

  h = hover(v, p.at("scenarios.okuri", "event.at") + 6);
  REQUIRE(h);
  CHECK(h->markdown.find("event.at: datetime") != std::string::npos);

  h = hover(v, p.at("scenarios.okuri", "tagged"));
  REQUIRE(h);
  CHECK(h->markdown.find("tagged(tag) → bool") != std::string::npos);

  h = hover(v, p.at("scenarios.okuri", "trial"));
  REQUIRE(h);
  CHECK(h->markdown.find("a value of `plan_kind`") != std::string::npos);

  const auto d = p.view("decls.okuri");
  h = hover(d, p.at("decls.okuri", "tokyo"));
  REQUIRE(h);
  CHECK(h->markdown.find("東京都") != std::string::npos);
  h = hover(d, p.at("decls.okuri", "region"));
  REQUIRE(h);
  CHECK(h->markdown.find("region: region") != std::string::npos);
}

TEST_CASE("lsp: definition and references across files, interpolations included", "[lsp][features]") {
  const auto p = make();
  const auto v = p.view("scenarios.okuri");
  const auto def = definition(v, p.at("scenarios.okuri", "welcome"));
  REQUIRE(def);
  CHECK(def->path == "decls.okuri");
  CHECK(def->begin == p.at("decls.okuri", "welcome"));

  const auto refs = references(v, p.at("scenarios.okuri", "予約ページ"), true);
  REQUIRE(refs.size() == 3);  // the declaration, `{予約ページ}` in welcome's text, clicked(予約ページ)
  CHECK(refs[0].path == "decls.okuri");
  CHECK(refs[0].begin == p.at("decls.okuri", "予約ページ"));
  CHECK(refs[1].begin == p.at("decls.okuri", "予約ページ", 1));
  CHECK(refs[2].path == "scenarios.okuri");
  CHECK(references(v, p.at("scenarios.okuri", "予約ページ"), false).size() == 2);

  // Steps resolve inside their scenario.
  const auto step = definition(v, p.at("scenarios.okuri", "goto again") + 5);
  REQUIRE(step);
  CHECK(step->begin == p.at("scenarios.okuri", "again"));
}

TEST_CASE("lsp: rename changes every file and refuses bad names", "[lsp][features]") {
  const auto p = make();
  const auto v = p.view("scenarios.okuri");
  auto r = rename(v, p.at("scenarios.okuri", "予約ページ"), "予約サイト");
  REQUIRE(r.error.empty());
  REQUIRE(r.files.size() == 2);
  CHECK(r.files[0].path == "decls.okuri");
  CHECK(r.files[0].edits.size() == 2);
  CHECK(r.files[1].edits.size() == 1);

  // Applying the edits gives a project that still checks clean.
  std::string decls = kDecls;
  std::string scen = kScenarios;
  for (auto* f : {&r.files[0], &r.files[1]}) {
    std::string& text = f->path == "decls.okuri" ? decls : scen;
    for (auto it = f->edits.rbegin(); it != f->edits.rend(); ++it)
      text.replace(it->begin, it->end - it->begin, it->text);
  }
  const auto after = make(decls, scen);
  CHECK(after.program->diags.error_count() == 0);
  CHECK(after.program->find(SymbolKind::Link, "予約サイト") != nullptr);

  CHECK_FALSE(rename(v, p.at("scenarios.okuri", "welcome"), "and").error.empty());          // reserved
  CHECK_FALSE(rename(v, p.at("scenarios.okuri", "welcome"), "two words").error.empty());    // not a name
  CHECK_FALSE(rename(v, p.at("scenarios.okuri", "welcome"), "reminder").error.empty());     // taken
  CHECK_FALSE(rename(v, p.at("scenarios.okuri", "appointment_at"), "関東").error.empty());  // a segment has it
  CHECK_FALSE(rename(v, p.at("scenarios.okuri", "{"), "x").error.empty());                  // nothing there
  CHECK(prepare_rename(v, p.at("scenarios.okuri", "reminder")).name == "reminder");
}

TEST_CASE("lsp: document symbols nest steps in scenarios and fields in events", "[lsp][features]") {
  const auto p = make();
  const auto items = document_symbols(p.view("scenarios.okuri"));
  REQUIRE(items.size() == 2);
  CHECK(items[0].name == "on booked");
  CHECK(items[1].name == "follow");
  REQUIRE(items[1].children.size() == 1);
  CHECK(items[1].children[0].name == "again");
  const auto decls = document_symbols(p.view("decls.okuri"));
  const auto ev = std::find_if(decls.begin(), decls.end(), [](const OutlineItem& i) { return i.name == "booked"; });
  REQUIRE(ev != decls.end());
  CHECK(ev->children.size() == 2);
  CHECK(std::count_if(decls.begin(), decls.end(), [](const OutlineItem& i) { return i.kind == OutlineKind::Tag; }) ==
        2);
}

TEST_CASE("lsp: formatting edits only the changed lines and leaves broken files alone", "[lsp][features]") {
  const std::string text = "tag a\non friend_added   {\n      tag a\n}\nmessage m text \"x\"\n";
  const auto e = format_document(text);
  REQUIRE(e);
  std::string out = text;
  out.replace(e->begin, e->end - e->begin, e->text);
  CHECK(out == "tag a\non friend_added {\n  tag a\n}\nmessage m text \"x\"\n");
  CHECK(e->begin == 6);  // the first line is not part of the edit
  CHECK_FALSE(format_document(out));
  CHECK_FALSE(format_document("on friend_added {\n   tag \n"));
}

TEST_CASE("lsp: completion by context, on text that does not parse", "[lsp][features]") {
  const auto p = make();
  const Program* names = p.program.get();
  auto at_end = [&](const std::string& text) {
    return labels(complete(text, static_cast<std::uint32_t>(text.size()), names, nullptr));
  };

  auto l = at_end("scenario s {\n  send ");
  CHECK(has(l, "welcome"));
  CHECK(has(l, "reminder"));
  CHECK_FALSE(has(l, "予約中"));
  l = at_end("scenario s {\n  send welcome, rem");
  CHECK(has(l, "reminder"));

  l = at_end("on ");
  CHECK(has(l, "friend_added"));
  CHECK(has(l, "booked"));
  CHECK_FALSE(has(l, "welcome"));

  l = at_end("segment x = tagged(");
  CHECK(has(l, "予約中"));
  CHECK(has(l, "キャンセル歴あり"));
  CHECK(l.size() == 2);

  l = at_end("segment x = region in [tokyo, ");
  CHECK(has(l, "osaka"));
  CHECK(l.size() == 47);

  l = at_end("segment x = plan_kind == ");
  CHECK(has(l, "trial"));
  CHECK(has(l, "monthly"));

  l = at_end("on booked when event.");
  CHECK(has(l, "at"));
  CHECK(has(l, "course"));

  // Steps of the enclosing scenario only.
  l = labels(complete("scenario follow {\n  goto ", 25, names, nullptr));
  CHECK(has(l, "again"));
  CHECK(labels(complete("scenario other {\n  goto ", 24, names, nullptr)).empty());

  l = at_end("");
  CHECK(has(l, "scenario"));
  CHECK(has(l, "segment"));
  l = at_end("scenario s {\n  ");
  CHECK(has(l, "start"));
  CHECK(has(l, "wait"));
  l = at_end("on friend_added {\n  ");
  CHECK(has(l, "send"));
  CHECK_FALSE(has(l, "wait"));  // a rule runs at once
  l = at_end("message m text \"こんにちは {");
  CHECK(has(l, "予約ページ"));
  CHECK(has(l, "display_name"));
  l = at_end("on friend_added {\n  notify \"予約: {");
  CHECK(has(l, "display_name"));
  l = at_end("message m text \"{lesson_at:");
  CHECK(has(l, "ja"));
  CHECK(has(l, "ja_year"));
  CHECK_FALSE(has(l, "display_name"));
  l = at_end("message m text \"{display_name|");
  CHECK(l.empty());  // the fallback is free text
  l = at_end("# send ");
  CHECK(l.empty());

  // The partial word is what an item replaces, measured in bytes.
  const std::string text = "scenario s {\n  send wel";
  const auto r = complete(text, static_cast<std::uint32_t>(text.size()), names, nullptr);
  CHECK(r.begin == text.size() - 3);
  CHECK(r.end == text.size());
  const std::string jp = "segment x = tagged(予約";
  const auto rj = complete(jp, static_cast<std::uint32_t>(jp.size()), names, nullptr);
  CHECK(rj.begin == jp.find("予約"));
}

TEST_CASE("lsp: a half-typed file still answers hover and completion from the last good Program", "[lsp][features]") {
  const auto good = make();
  const std::string broken = kScenarios + "scenario broken {\n  send welcome,\n  if (\n";
  const auto p = make(kDecls, broken);
  REQUIRE(query::has_syntax_errors(*p.program, *query::file_index(*p.program, "scenarios.okuri")));
  DocumentView v = p.view("scenarios.okuri");
  v.last_good = good.program.get();
  const auto h = hover(v, p.at("scenarios.okuri", "welcome", 1));
  REQUIRE(h);
  CHECK(h->markdown.find("message welcome") != std::string::npos);
  const auto r =
      complete(broken, static_cast<std::uint32_t>(broken.find("welcome,") + 8), p.program.get(), good.program.get());
  CHECK(has(labels(r), "reminder"));
  // Every feature answers without throwing.
  for (std::uint32_t off = 0; off <= broken.size(); off += 7) {
    static_cast<void>(hover(v, off));
    static_cast<void>(definition(v, off));
    static_cast<void>(references(v, off, true));
    static_cast<void>(complete(broken, off, p.program.get(), good.program.get()));
  }
  CHECK_FALSE(semantic_tokens(v).empty());
  CHECK_FALSE(format_document(broken));
}

TEST_CASE("lsp: semantic tokens are ordered, single-line, and classify names by the Program", "[lsp][features]") {
  const auto p = make();
  const auto v = p.view("scenarios.okuri");
  const auto toks = semantic_tokens(v);
  const auto& text = p.program->sources.file(v.file).text;
  std::uint32_t prev = 0;
  for (const auto& t : toks) {
    CHECK(t.begin >= prev);
    CHECK(t.end > t.begin);
    CHECK(text.substr(t.begin, t.end - t.begin).find('\n') == std::string::npos);
    prev = t.end;
  }
  auto type_at = [&](std::uint32_t off) -> std::optional<TokenType> {
    for (const auto& t : toks) {
      if (t.begin == off) return t.type;
    }
    return std::nullopt;
  };
  CHECK(type_at(p.at("scenarios.okuri", "予約中")) == TokenType::Enum);
  CHECK(type_at(p.at("scenarios.okuri", "welcome")) == TokenType::Struct);
  CHECK(type_at(p.at("scenarios.okuri", "tagged")) == TokenType::Function);
  CHECK(type_at(p.at("scenarios.okuri", "send")) == TokenType::Keyword);
  CHECK(type_at(p.at("scenarios.okuri", "trial")) == TokenType::EnumMember);
  CHECK(type_at(p.at("scenarios.okuri", "friend_added")) == TokenType::Event);
  CHECK(type_at(p.at("scenarios.okuri", "7d")) == TokenType::Number);
}

TEST_CASE("lsp: code actions apply the did-you-mean fix-its", "[lsp][features]") {
  const auto p = make(kDecls, "segment x = tagged(予約ち) and regoin == tokyo\n");
  const auto v = p.view("scenarios.okuri");
  const auto all = code_actions(v, 0, 1000);
  REQUIRE(all.size() == 2);
  CHECK(all[0].title == "Change `予約ち` to `予約中`");
  CHECK(all[0].edit.text == "予約中");
  CHECK(all[0].edit.begin == p.at("scenarios.okuri", "予約ち"));
  CHECK(all[1].edit.text == "region");
  // Only the diagnostics the range touches.
  const auto one = code_actions(v, p.at("scenarios.okuri", "regoin"), p.at("scenarios.okuri", "regoin"));
  REQUIRE(one.size() == 1);
  CHECK(one[0].edit.text == "region");
}

TEST_CASE("lsp: every field query::events lists is readable in a rule on that event", "[lsp][features]") {
  // Every field query::events lists is readable in a rule on that event.
  Program empty;
  std::string src = "tag t\nlink l \"https://x\"\nmessage m text \"x\"\nform f\nfield memo: text\n";
  for (const auto& e : query::events(empty)) {
    for (const auto& [name, type] : e.fields) {
      src += "on " + e.name + " when event." + name + " == \"x\" { pass }\n";
    }
  }
  const auto p = compile_sources(".", {{"e.okuri", src}});
  for (const auto& d : p->diags.all()) {
    INFO(d.message);
    CHECK(d.severity != Severity::Error);
  }
  CHECK(query::events(empty).size() == 12);
}

TEST_CASE("lsp: a full-width character has a quick fix that writes the ASCII one", "[lsp][features]") {
  const auto p = make(kDecls, "segment x = tagged（予約中） and score ＞ 3\nscenario s {\n　start when x\n  pass\n}\n");
  const auto v = p.view("scenarios.okuri");
  const auto all = code_actions(v, 0, 1000);
  REQUIRE(all.size() == 2);
  // One fix covers the parenthesis pair and the `＞` after it on the line.
  CHECK(all[0].title == "Change `（予約中） and score ＞` to `(予約中) and score >`");
  CHECK(all[0].edit.begin == p.at("scenarios.okuri", "（"));
  CHECK(all[0].edit.text == "(予約中) and score >");
  // A full-width space used to indent: two half-width spaces.
  CHECK(all[1].edit.begin == p.at("scenarios.okuri", "　"));
  CHECK(all[1].edit.text == "  ");
}

TEST_CASE("lsp: completion of add and remove: the values, then `to`, then the set_of fields", "[lsp][features]") {
  const auto p = make(kDecls + "field likes: set_of(knit, coat)\n");
  const Program* names = p.program.get();
  auto at_end = [&](const std::string& text) {
    return labels(complete(text, static_cast<std::uint32_t>(text.size()), names, nullptr));
  };
  auto l = at_end("on booked {\n  add ");
  CHECK(has(l, "knit"));
  CHECK(has(l, "coat"));
  l = at_end("on booked {\n  add knit ");
  CHECK(has(l, "to"));
  l = at_end("on booked {\n  remove knit, coat from ");
  CHECK(has(l, "likes"));
  CHECK_FALSE(has(l, "plan_kind"));  // a one_of field: not a set
}

TEST_CASE("lsp: hover on a text's format and fallback", "[lsp][features]") {
  const std::string src =
      "message m text \"{ display_name | お客様 }さん、{lesson_at:ja|未定}\"\nlink x \"https://a.example/{b|c}\"\n";
  auto h = describe_interpolation(src, static_cast<std::uint32_t>(src.find("お客様")));
  REQUIRE(h);
  CHECK(h->markdown.find("fallback of `display_name`") != std::string::npos);
  CHECK(h->markdown.find("「お客様」") != std::string::npos);
  h = describe_interpolation(src, static_cast<std::uint32_t>(src.find(":ja") + 1));
  REQUIRE(h);
  CHECK(h->markdown.find("format `ja` of `lesson_at`") != std::string::npos);
  CHECK(h->begin == src.find(":ja") + 1);
  CHECK(h->end == src.find(":ja") + 3);
  // The name is described elsewhere (a symbol or an attribute); a link's URL is not a text.
  CHECK(!describe_interpolation(src, static_cast<std::uint32_t>(src.find("display_name") + 2)));
  CHECK(!describe_interpolation(src, static_cast<std::uint32_t>(src.find("|c") + 1)));
}
