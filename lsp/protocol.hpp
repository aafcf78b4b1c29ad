// The protocol layer: the only place that knows JSON and LSP positions.
//
// LSP positions are (line, character) where `character` counts UTF-16 code
// units by default, or UTF-8 bytes when both sides agreed on "utf-8" in
// initialize. Everything below this layer speaks byte offsets into UTF-8
// text; LineIndex converts both ways. Lines end at "\n" (a "\r" before it is
// not part of the line). Positions past the end of a line clamp to its end,
// lines past the end of the text clamp to the end of the text, and a position
// inside a character (the middle of a surrogate pair, or of a UTF-8 sequence)
// rounds down to the start of that character. Invalid UTF-8 counts one unit
// per stray byte, the same way in both directions.
//
// Parsing functions throw ProtocolError for params of the wrong shape; the
// server answers those with InvalidParams.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lsp/features.hpp"

namespace okuri::lsp {

using Json = nlohmann::json;

// JSON-RPC and LSP error codes.
namespace error_code {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kServerNotInitialized = -32002;
inline constexpr int kRequestFailed = -32803;
inline constexpr int kRequestCancelled = -32800;
}  // namespace error_code

struct ProtocolError : std::runtime_error {
  int code;
  ProtocolError(int c, const std::string& what) : std::runtime_error(what), code(c) {}
};

enum class PositionEncoding { Utf16, Utf8 };
const char* encoding_name(PositionEncoding e);  // "utf-16", "utf-8"

struct Position {
  std::uint32_t line = 0;
  std::uint32_t character = 0;
  friend bool operator==(const Position&, const Position&) = default;
};
struct Range {
  Position start;
  Position end;
  friend bool operator==(const Range&, const Range&) = default;
};

// Line starts of one text. Holds a view: the text must outlive the index and
// stay unchanged.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);
  std::uint32_t offset(Position p, PositionEncoding enc) const;
  Position position(std::uint32_t offset, PositionEncoding enc) const;
  Range range(std::uint32_t begin, std::uint32_t end, PositionEncoding enc) const {
    return Range{position(begin, enc), position(end, enc)};
  }
  std::uint32_t line_count() const { return static_cast<std::uint32_t>(starts_.size()); }

 private:
  std::string_view text_;
  std::vector<std::uint32_t> starts_;
  std::uint32_t line_end(std::uint32_t line) const;  // before "\r\n" or "\n"
};

// One textDocument/didChange content change, applied to `text`. Without a
// range the change replaces the whole text.
struct ContentChange {
  std::optional<Range> range;
  std::string text;
};
void apply_change(std::string& text, const ContentChange& change, PositionEncoding enc);

// file: URIs. `uri_to_path` returns nullopt for other schemes.
std::string path_to_uri(std::string_view path);
std::optional<std::string> uri_to_path(std::string_view uri);

// ------------------------------------------------------------------ messages

// One JSON-RPC message, split into its parts.
struct Message {
  enum class Kind { Request, Notification, Response } kind = Kind::Notification;
  Json id;  // requests and responses
  std::string method;
  Json params;
};
// Parses a message body. Throws ProtocolError(kParseError) for text that is
// not JSON and ProtocolError(kInvalidRequest) for JSON that is not a message.
Message parse_message(std::string_view body);

std::string response(const Json& id, const Json& result);
std::string error_response(const Json& id, int code, std::string_view message);
std::string notification(std::string_view method, const Json& params);
// A compact, stable key for a request id (ids may be numbers or strings).
std::string id_key(const Json& id);

// ------------------------------------------------------------------ params

struct InitializeParams {
  bool client_offers_utf8 = false;
  bool hierarchical_symbols = false;
  std::optional<std::string> root_path;
};
InitializeParams parse_initialize(const Json& params);
// The result of initialize: the capabilities this server has.
Json initialize_result(PositionEncoding enc);

struct DidOpenParams {
  std::string uri;
  std::string text;
  std::int64_t version = 0;
};
DidOpenParams parse_did_open(const Json& params);

struct DidChangeParams {
  std::string uri;
  std::int64_t version = 0;
  std::vector<ContentChange> changes;
};
DidChangeParams parse_did_change(const Json& params);

std::string parse_document_uri(const Json& params);  // textDocument.uri

struct DocumentPositionParams {
  std::string uri;
  Position position;
};
DocumentPositionParams parse_document_position(const Json& params);
bool parse_include_declaration(const Json& params);  // context.includeDeclaration
std::string parse_new_name(const Json& params);      // newName

struct DocumentRangeParams {
  std::string uri;
  Range range;
};
DocumentRangeParams parse_document_range(const Json& params);

// The request id a $/cancelRequest names.
Json parse_cancel_id(const Json& params);

// ------------------------------------------------------------------ results

// Converts byte offsets of any project file to LSP positions. `text_of`
// supplies the text of a path (the text the offsets refer to); path_to_uri
// maps paths to the URIs the client knows.
class Converter {
 public:
  Converter(PositionEncoding enc, std::function<std::string_view(const std::string&)> text_of,
            std::function<std::string(const std::string&)> uri_of);
  PositionEncoding encoding() const { return enc_; }
  Json range(const std::string& path, std::uint32_t begin, std::uint32_t end);
  Json location(const Location& l);
  std::string uri(const std::string& path) { return uri_of_(path); }
  const LineIndex& index(const std::string& path);

 private:
  PositionEncoding enc_;
  std::function<std::string_view(const std::string&)> text_of_;
  std::function<std::string(const std::string&)> uri_of_;
  std::map<std::string, std::pair<std::string_view, LineIndex>> cache_;
};

// publishDiagnostics params for one file. `docs_base` is the URI prefix of
// docs/diagnostics/ ("file:///…/docs/diagnostics/"); `version` is the
// document version the diagnostics were computed for (open documents).
Json diagnostics_params(Converter& c, const FileDiagnostics& d, std::string_view docs_base,
                        std::optional<std::int64_t> version);
Json hover_json(Converter& c, const std::string& path, const std::optional<HoverInfo>& h);
Json locations_json(Converter& c, const std::vector<Location>& ls);
Json location_json(Converter& c, const std::optional<Location>& l);
Json workspace_edit_json(Converter& c, const std::vector<FileEdits>& files);
Json text_edits_json(Converter& c, const std::string& path, const std::vector<TextEdit>& edits);
Json prepare_rename_json(Converter& c, const std::string& path, const RenameTarget& t);
Json document_symbols_json(Converter& c, const std::string& path, const std::vector<OutlineItem>& items);
Json completion_json(Converter& c, const std::string& path, const CompletionResult& r);
Json semantic_tokens_json(Converter& c, const std::string& path, const std::vector<SemanticToken>& tokens);
Json code_actions_json(Converter& c, const std::string& path, const std::vector<CodeActionInfo>& actions,
                       const FileDiagnostics& diags, std::string_view docs_base);

}  // namespace okuri::lsp
