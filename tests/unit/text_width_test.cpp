#include <catch2/catch.hpp>

#include "compiler/diagnostic.hpp"
#include "compiler/text_width.hpp"

using namespace okuri;

TEST_CASE("East Asian Wide characters take two columns", "[width]") {
  CHECK(display_width("abc") == 3);
  CHECK(display_width("体験") == 4);
  CHECK(display_width("ｱｲｳ") == 3);  // halfwidth katakana
  CHECK(display_width("ＡＢ") == 4);  // fullwidth latin
  CHECK(display_width("が") == 2);
  CHECK(code_points("体験予約済み") == 6);
  CHECK(utf16_units("体験") == 2);
  CHECK(utf16_units("😀") == 2);
}

TEST_CASE("carets line up under Japanese text", "[width]") {
  SourceSet s;
  const std::string line = "  if tagged(体験予約済) {";
  s.add("trial.okuri", line + "\n");
  const auto b = static_cast<std::uint32_t>(line.find("体"));
  const auto e = static_cast<std::uint32_t>(line.find(")"));
  Diagnostic d{Code::E002, Severity::Error, Span{0, b, e}, "unknown tag `体験予約済`", {}, std::nullopt};
  const std::string out = render_human(s, {d});
  CHECK(out ==
        "trial.okuri:1:13: error: unknown tag `体験予約済` [E002]\n"
        "    if tagged(体験予約済) {\n"
        "              ^~~~~~~~~~\n");
}

TEST_CASE("columns count code points", "[width]") {
  SourceFile f("x.okuri", "体験 abc\nxyz");
  CHECK(f.line_col(0).column == 1);
  CHECK(f.line_col(3).column == 2);  // after one 3-byte character
  CHECK(f.line_col(7).column == 4);
  CHECK(f.line_col(11).line == 2);
  CHECK(f.offset_of(LineCol{1, 4}) == 7);
}

TEST_CASE("UTF-8 is checked strictly: overlong forms, surrogates and code points past U+10FFFF", "[text]") {
  CHECK(okuri::first_invalid_utf8("友だち追加 🎉 ok") == std::string_view::npos);
  CHECK(okuri::first_invalid_utf8("a\xC0\xAF"
                                  "b") == 1);                                  // overlong `/`
  CHECK(okuri::first_invalid_utf8("ab\xE0\x80\xAF") == 2);                     // overlong in three bytes
  CHECK(okuri::first_invalid_utf8("\xF0\x80\x80\xAF") == 0);                   // overlong in four bytes
  CHECK(okuri::first_invalid_utf8("\xED\xA0\x80") == 0);                       // a surrogate
  CHECK(okuri::first_invalid_utf8("x\xF4\x90\x80\x80") == 1);                  // past U+10FFFF
  CHECK(okuri::first_invalid_utf8("\xEF\xBF\xBD") == std::string_view::npos);  // U+FFFD itself is fine
}
