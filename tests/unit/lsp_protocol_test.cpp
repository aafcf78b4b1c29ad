#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "lsp/protocol.hpp"
#include "lsp/transport.hpp"

using namespace okuri::lsp;

namespace {
constexpr auto U16 = PositionEncoding::Utf16;
constexpr auto U8 = PositionEncoding::Utf8;
}  // namespace

TEST_CASE("lsp: positions after Japanese text count UTF-16 units or UTF-8 bytes", "[lsp][protocol]") {
  // "tag 予約中, x" — 予約中 is three characters of three bytes each.
  const std::string text = "tag 予約中, x\nsend 案内\n";
  const LineIndex idx(text);
  const auto x = static_cast<std::uint32_t>(text.find(", x") + 2);
  CHECK(idx.position(x, U16) == Position{0, 9});
  CHECK(idx.position(x, U8) == Position{0, 15});
  CHECK(idx.offset(Position{0, 9}, U16) == x);
  CHECK(idx.offset(Position{0, 15}, U8) == x);
  // The second line: 案内 starts after "send ".
  const auto an = static_cast<std::uint32_t>(text.find("案内"));
  CHECK(idx.position(an, U16) == Position{1, 5});
  CHECK(idx.position(an + 3, U16) == Position{1, 6});
  CHECK(idx.position(an + 3, U8) == Position{1, 8});
}

TEST_CASE("lsp: characters outside the BMP take a surrogate pair", "[lsp][protocol]") {
  const std::string text = "a😀b𠮷c";  // U+1F600 and U+20BB7 are 4 bytes, 2 UTF-16 units each
  const LineIndex idx(text);
  const auto b = static_cast<std::uint32_t>(text.find('b'));
  const auto c = static_cast<std::uint32_t>(text.find('c'));
  CHECK(idx.position(b, U16) == Position{0, 3});
  CHECK(idx.position(c, U16) == Position{0, 6});
  CHECK(idx.offset(Position{0, 3}, U16) == b);
  CHECK(idx.offset(Position{0, 6}, U16) == c);
  // Inside the pair: round down to the start of the emoji.
  CHECK(idx.offset(Position{0, 2}, U16) == 1);
  // An offset inside a UTF-8 sequence rounds down as well.
  CHECK(idx.position(2, U16) == Position{0, 1});
  CHECK(idx.position(c, U8) == Position{0, 10});
}

TEST_CASE("lsp: positions clamp to the line and to the text", "[lsp][protocol]") {
  const std::string text = "ab\r\ncd\nｴ";
  const LineIndex idx(text);
  CHECK(idx.offset(Position{0, 99}, U16) == 2);  // before "\r\n"
  CHECK(idx.offset(Position{1, 99}, U16) == 6);
  CHECK(idx.offset(Position{2, 1}, U16) == text.size());
  CHECK(idx.offset(Position{9, 0}, U16) == text.size());
  CHECK(idx.position(static_cast<std::uint32_t>(text.size()) + 5, U16) == Position{2, 1});
  CHECK(idx.position(3, U16) == Position{0, 2});  // the "\n" of "\r\n" belongs to line 0's end
}

TEST_CASE("lsp: stray bytes of invalid UTF-8 count one unit both ways", "[lsp][protocol]") {
  const std::string text = "a\xE3\x81z";  // a truncated three-byte sequence
  const LineIndex idx(text);
  const auto z = static_cast<std::uint32_t>(text.find('z'));
  const Position p = idx.position(z, U16);
  CHECK(idx.offset(p, U16) == z);
}

TEST_CASE("lsp: incremental edits apply in the negotiated encoding", "[lsp][protocol]") {
  std::string text = "message 案内 text \"こんにちは\"\nsend 案内\n";
  SECTION("UTF-16") {
    // Replace 案内 on line 1 (characters 5..7) with 挨拶.
    apply_change(text, ContentChange{Range{{1, 5}, {1, 7}}, "挨拶"}, U16);
    CHECK(text == "message 案内 text \"こんにちは\"\nsend 挨拶\n");
    // Insert an emoji after the opening quote of line 0 (character 16), then text after it.
    apply_change(text, ContentChange{Range{{0, 17}, {0, 17}}, "😀"}, U16);
    apply_change(text, ContentChange{Range{{0, 19}, {0, 19}}, "!"}, U16);
    CHECK(text == "message 案内 text \"😀!こんにちは\"\nsend 挨拶\n");
    // Delete across the line break.
    apply_change(text, ContentChange{Range{{0, 26}, {1, 0}}, " "}, U16);
    CHECK(text == "message 案内 text \"😀!こんにちは\" send 挨拶\n");
  }
  SECTION("UTF-8") {
    apply_change(text, ContentChange{Range{{1, 5}, {1, 11}}, "挨拶"}, U8);
    CHECK(text == "message 案内 text \"こんにちは\"\nsend 挨拶\n");
  }
  SECTION("a change without a range replaces the text") {
    apply_change(text, ContentChange{std::nullopt, "tag x\n"}, U16);
    CHECK(text == "tag x\n");
  }
  SECTION("a reversed range is taken in order") {
    apply_change(text, ContentChange{Range{{1, 7}, {1, 5}}, ""}, U16);
    CHECK(text == "message 案内 text \"こんにちは\"\nsend \n");
  }
}

TEST_CASE("lsp: file URIs round-trip, Japanese folders and spaces included", "[lsp][protocol]") {
  const std::string path = "/home/user/配信 シナリオ/a#b.okuri";
  const std::string uri = path_to_uri(path);
  CHECK(uri.rfind("file:///home/user/%E9%85%8D%E4%BF%A1%20", 0) == 0);
  CHECK(uri.find('#') == std::string::npos);
  CHECK(uri_to_path(uri) == path);
  CHECK(uri_to_path("file:///tmp/x%2Fy") == std::optional<std::string>("/tmp/x/y"));
  CHECK_FALSE(uri_to_path("untitled:Untitled-1").has_value());
}

TEST_CASE("lsp: messages: parse errors and invalid requests are told apart", "[lsp][protocol]") {
  try {
    parse_message("{\"jsonrpc\": ");
    FAIL("no exception");
  } catch (const ProtocolError& e) {
    CHECK(e.code == error_code::kParseError);
  }
  try {
    parse_message("[1, 2]");
    FAIL("no exception");
  } catch (const ProtocolError& e) {
    CHECK(e.code == error_code::kInvalidRequest);
  }
  const auto req = parse_message(R"({"jsonrpc":"2.0","id":"a1","method":"textDocument/hover","params":{}})");
  CHECK(req.kind == Message::Kind::Request);
  CHECK(req.id == "a1");
  const auto note = parse_message(R"({"jsonrpc":"2.0","method":"initialized"})");
  CHECK(note.kind == Message::Kind::Notification);
}

TEST_CASE("lsp: initialize picks UTF-8 only when the client offers it", "[lsp][protocol]") {
  const auto offered =
      parse_initialize(Json::parse(R"({"capabilities":{"general":{"positionEncodings":["utf-16","utf-8"]}}})"));
  CHECK(offered.client_offers_utf8);
  const auto plain = parse_initialize(Json::parse(R"({"capabilities":{}})"));
  CHECK_FALSE(plain.client_offers_utf8);
  CHECK(initialize_result(U8)["capabilities"]["positionEncoding"] == "utf-8");
  CHECK(initialize_result(U16)["capabilities"]["textDocumentSync"]["change"] == 2);
}

TEST_CASE("lsp: the transport frames messages and survives malformed headers", "[lsp][transport]") {
  int in[2];
  int out[2];
  REQUIRE(pipe(in) == 0);
  REQUIRE(pipe(out) == 0);
  Transport t(in[0], out[1]);
  const std::string body = R"({"jsonrpc":"2.0","method":"x","params":{"t":"予約"}})";
  const std::string bytes = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +  // good
                            "garbage line\r\n\r\n" +         // no colon, no length
                            "Content-Length: abc\r\n\r\n" +  // bad length
                            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}" +
                            "Content-Length: 10\r\n\r\n{\"a\"";  // cut short
  REQUIRE(write(in[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  close(in[1]);
  auto r = t.read();
  CHECK(r.status == Transport::ReadStatus::Message);
  CHECK(r.body == body);
  CHECK(t.input_pending());
  r = t.read();
  CHECK(r.status == Transport::ReadStatus::Malformed);
  r = t.read();
  CHECK(r.status == Transport::ReadStatus::Malformed);
  CHECK(r.error.find("Content-Length") != std::string::npos);
  r = t.read();
  CHECK(r.status == Transport::ReadStatus::Message);
  CHECK(r.body == "{}");
  r = t.read();
  CHECK(r.status == Transport::ReadStatus::Eof);

  CHECK(t.write("{\"id\":1}"));
  char buf[64] = {};
  const auto n = read(out[0], buf, sizeof buf - 1);
  CHECK(std::string(buf, static_cast<std::size_t>(n)) == "Content-Length: 8\r\n\r\n{\"id\":1}");
  close(in[0]);
  close(out[0]);
  close(out[1]);
}
