#include "lsp/protocol.hpp"

#include <algorithm>

#include "stdlib/json_depth.hpp"

namespace okuri::lsp {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The byte length of the character starting at `i` (1 for a stray byte), so
// that both directions of the conversion step over the same characters.
std::uint32_t char_length(std::string_view s, std::uint32_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::uint32_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  for (std::uint32_t k = 1; k < n; ++k) {
    if (i + k >= s.size() || !is_continuation(static_cast<unsigned char>(s[i + k]))) return 1;
  }
  return n;
}

std::uint32_t units(std::uint32_t bytes, PositionEncoding enc) {
  if (enc == PositionEncoding::Utf8) return bytes;
  return bytes == 4 ? 2 : 1;  // outside the BMP: a surrogate pair
}

const Json& member(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key))
    throw ProtocolError(error_code::kInvalidParams, std::string("missing `") + key + "`");
  return j.at(key);
}

std::string get_string(const Json& j, const char* key) {
  const Json& v = member(j, key);
  if (!v.is_string()) throw ProtocolError(error_code::kInvalidParams, std::string("`") + key + "` must be a string");
  return v.get<std::string>();
}

std::uint32_t get_uint(const Json& j, const char* key) {
  const Json& v = member(j, key);
  if (!v.is_number_integer())
    throw ProtocolError(error_code::kInvalidParams, std::string("`") + key + "` must be an integer");
  const auto n = v.get<std::int64_t>();
  if (n < 0) throw ProtocolError(error_code::kInvalidParams, std::string("`") + key + "` must not be negative");
  return static_cast<std::uint32_t>(std::min<std::int64_t>(n, 0xFFFFFFFF));
}

Position parse_position(const Json& j) { return Position{get_uint(j, "line"), get_uint(j, "character")}; }

Range parse_range(const Json& j) { return Range{parse_position(member(j, "start")), parse_position(member(j, "end"))}; }

Json position_json(Position p) { return Json{{"line", p.line}, {"character", p.character}}; }

Json range_json(Range r) { return Json{{"start", position_json(r.start)}, {"end", position_json(r.end)}}; }

int completion_kind(CompletionKind k) {
  switch (k) {
    case CompletionKind::Keyword:
      return 14;
    case CompletionKind::Message:
      return 21;  // Constant
    case CompletionKind::Tag:
      return 12;  // Value
    case CompletionKind::Link:
      return 18;  // Reference
    case CompletionKind::Segment:
      return 3;  // Function
    case CompletionKind::Field:
      return 5;
    case CompletionKind::Scenario:
      return 7;  // Class
    case CompletionKind::Step:
      return 2;  // Method
    case CompletionKind::Audience:
      return 9;  // Module
    case CompletionKind::Form:
      return 22;  // Struct
    case CompletionKind::Event:
      return 23;
    case CompletionKind::Score:
      return 6;  // Variable
    case CompletionKind::Function:
      return 3;
    case CompletionKind::Attribute:
      return 10;  // Property
    case CompletionKind::EnumValue:
      return 20;  // EnumMember
    case CompletionKind::Type:
      return 25;  // TypeParameter
    case CompletionKind::Friend:
      return 6;
    case CompletionKind::EventField:
      return 5;
  }
  return 1;
}

int symbol_kind(OutlineKind k) {
  switch (k) {
    case OutlineKind::Account:
      return 3;  // Namespace
    case OutlineKind::Field:
    case OutlineKind::EventField:
      return 8;  // Field
    case OutlineKind::Tag:
      return 20;  // Key
    case OutlineKind::Score:
      return 13;  // Variable
    case OutlineKind::Link:
      return 15;  // String
    case OutlineKind::Message:
      return 14;  // Constant
    case OutlineKind::Audience:
      return 18;  // Array
    case OutlineKind::Form:
      return 23;  // Struct
    case OutlineKind::Event:
    case OutlineKind::Rule:
      return 24;  // Event
    case OutlineKind::Segment:
      return 12;  // Function
    case OutlineKind::Scenario:
      return 5;  // Class
    case OutlineKind::Step:
      return 6;  // Method
    case OutlineKind::Broadcast:
      return 2;  // Module
    case OutlineKind::Test:
      return 19;  // Object
  }
  return 13;
}

int severity_number(Severity s) {
  switch (s) {
    case Severity::Error:
      return 1;
    case Severity::Warning:
      return 2;
    case Severity::Note:
      return 3;
  }
  return 1;
}

}  // namespace

const char* encoding_name(PositionEncoding e) { return e == PositionEncoding::Utf8 ? "utf-8" : "utf-16"; }

// ------------------------------------------------------------------ LineIndex

LineIndex::LineIndex(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (std::uint32_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts_.push_back(i + 1);
  }
}

std::uint32_t LineIndex::line_end(std::uint32_t line) const {
  std::uint32_t e = line + 1 < starts_.size() ? starts_[line + 1] - 1 : static_cast<std::uint32_t>(text_.size());
  if (e > starts_[line] && line + 1 < starts_.size() && text_[e - 1] == '\r') --e;
  return e;
}

std::uint32_t LineIndex::offset(Position p, PositionEncoding enc) const {
  if (p.line >= starts_.size()) return static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = starts_[p.line];
  const std::uint32_t e = line_end(p.line);
  std::uint32_t counted = 0;
  while (i < e) {
    const std::uint32_t n = std::min(char_length(text_, i), e - i);
    const std::uint32_t u = units(n, enc);
    if (counted + u > p.character) break;  // inside this character: round down
    counted += u;
    i += n;
  }
  return i;
}

Position LineIndex::position(std::uint32_t offset, PositionEncoding enc) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text_.size()));
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  const auto line = static_cast<std::uint32_t>(it - starts_.begin() - 1);
  std::uint32_t i = starts_[line];
  const std::uint32_t stop = std::min(offset, line_end(line));
  std::uint32_t counted = 0;
  while (i < stop) {
    const std::uint32_t n = char_length(text_, i);
    if (i + n > stop) break;  // an offset inside a character rounds down
    counted += units(n, enc);
    i += n;
  }
  return Position{line, counted};
}

void apply_change(std::string& text, const ContentChange& change, PositionEncoding enc) {
  if (!change.range) {
    text = change.text;
    return;
  }
  const LineIndex idx(text);
  std::uint32_t b = idx.offset(change.range->start, enc);
  std::uint32_t e = idx.offset(change.range->end, enc);
  if (e < b) std::swap(b, e);
  text.replace(b, e - b, change.text);
}

// ------------------------------------------------------------------ URIs

std::string path_to_uri(std::string_view path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "file://";
  if (path.empty() || path.front() != '/') out += '/';
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> uri_to_path(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  uri.remove_prefix(kScheme.size());
  if (uri.substr(0, 9) == "localhost") uri.remove_prefix(9);
  if (uri.empty() || uri.front() != '/') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() + 0 && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      out += static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2]));
      i += 2;
    } else if (uri[i] == '?' || uri[i] == '#') {
      break;
    } else {
      out += uri[i];
    }
  }
  return out;
}

// ------------------------------------------------------------------ messages

Message parse_message(std::string_view body) {
  if (stdlib::json_too_deep(body)) {
    throw ProtocolError(error_code::kInvalidRequest,
                        "the message nests JSON deeper than " + std::to_string(stdlib::kJsonDepthLimit) + " levels");
  }
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) throw ProtocolError(error_code::kParseError, "the message is not valid JSON");
  if (!j.is_object()) throw ProtocolError(error_code::kInvalidRequest, "a message must be a JSON object");
  Message m;
  const bool has_id = j.contains("id") && (j["id"].is_number_integer() || j["id"].is_string());
  if (j.contains("id") && !has_id && !j["id"].is_null()) {
    throw ProtocolError(error_code::kInvalidRequest, "`id` must be a number or a string");
  }
  if (j.contains("method")) {
    if (!j["method"].is_string()) throw ProtocolError(error_code::kInvalidRequest, "`method` must be a string");
    m.method = j["method"].get<std::string>();
    m.kind = has_id ? Message::Kind::Request : Message::Kind::Notification;
  } else if (j.contains("result") || j.contains("error")) {
    m.kind = Message::Kind::Response;
  } else {
    throw ProtocolError(error_code::kInvalidRequest, "a message needs a `method`, a `result` or an `error`");
  }
  if (has_id) m.id = j["id"];
  if (j.contains("params")) m.params = j["params"];
  return m;
}

namespace {
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }
}  // namespace

std::string response(const Json& id, const Json& result) {
  return dump(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

std::string error_response(const Json& id, int code, std::string_view message) {
  return dump(Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::string(message)}}}});
}

std::string notification(std::string_view method, const Json& params) {
  return dump(Json{{"jsonrpc", "2.0"}, {"method", std::string(method)}, {"params", params}});
}

std::string id_key(const Json& id) { return dump(id); }

// ------------------------------------------------------------------ params

InitializeParams parse_initialize(const Json& params) {
  InitializeParams out;
  if (!params.is_object()) return out;
  const Json caps = params.value("capabilities", Json::object());
  if (caps.is_object()) {
    const Json general = caps.value("general", Json::object());
    if (general.is_object() && general.contains("positionEncodings") && general["positionEncodings"].is_array()) {
      for (const auto& e : general["positionEncodings"]) {
        if (e.is_string() && e.get<std::string>() == "utf-8") out.client_offers_utf8 = true;
      }
    }
    const Json td = caps.value("textDocument", Json::object());
    if (td.is_object() && td.contains("documentSymbol") && td["documentSymbol"].is_object()) {
      out.hierarchical_symbols = td["documentSymbol"].value("hierarchicalDocumentSymbolSupport", false);
    }
  }
  if (params.contains("rootUri") && params["rootUri"].is_string())
    out.root_path = uri_to_path(params["rootUri"].get<std::string>());
  return out;
}

namespace {
const char* const kTokenTypes[] = {"keyword",  "string",   "number",     "comment", "operator", "function",
                                   "variable", "property", "enumMember", "event",   "type",     "class",
                                   "method",   "struct",   "interface",  "enum",    "namespace"};
const char* const kTokenModifiers[] = {"declaration", "defaultLibrary", "readonly"};
}  // namespace

Json initialize_result(PositionEncoding enc) {
  Json types = Json::array();
  for (const char* t : kTokenTypes) types.push_back(t);
  Json mods = Json::array();
  for (const char* m : kTokenModifiers) mods.push_back(m);
  return Json{
      {"capabilities",
       {{"positionEncoding", encoding_name(enc)},
        {"textDocumentSync", {{"openClose", true}, {"change", 2}}},
        {"hoverProvider", true},
        {"completionProvider", {{"triggerCharacters", {" ", ".", "(", "[", "{", ","}}}},
        {"definitionProvider", true},
        {"referencesProvider", true},
        {"renameProvider", {{"prepareProvider", true}}},
        {"documentSymbolProvider", true},
        {"documentFormattingProvider", true},
        {"semanticTokensProvider", {{"legend", {{"tokenTypes", types}, {"tokenModifiers", mods}}}, {"full", true}}},
        {"codeActionProvider", {{"codeActionKinds", {"quickfix"}}}}}},
      {"serverInfo", {{"name", "okuri"}, {"version", "0.1.0"}}}};
}

DidOpenParams parse_did_open(const Json& params) {
  const Json& td = member(params, "textDocument");
  DidOpenParams out;
  out.uri = get_string(td, "uri");
  out.text = get_string(td, "text");
  if (td.contains("version") && td["version"].is_number_integer()) out.version = td["version"].get<std::int64_t>();
  return out;
}

DidChangeParams parse_did_change(const Json& params) {
  const Json& td = member(params, "textDocument");
  DidChangeParams out;
  out.uri = get_string(td, "uri");
  if (td.contains("version") && td["version"].is_number_integer()) out.version = td["version"].get<std::int64_t>();
  const Json& changes = member(params, "contentChanges");
  if (!changes.is_array()) throw ProtocolError(error_code::kInvalidParams, "`contentChanges` must be an array");
  for (const auto& c : changes) {
    ContentChange cc;
    cc.text = get_string(c, "text");
    if (c.contains("range") && !c["range"].is_null()) cc.range = parse_range(c["range"]);
    out.changes.push_back(std::move(cc));
  }
  return out;
}

std::string parse_document_uri(const Json& params) { return get_string(member(params, "textDocument"), "uri"); }

DocumentPositionParams parse_document_position(const Json& params) {
  return DocumentPositionParams{parse_document_uri(params), parse_position(member(params, "position"))};
}

bool parse_include_declaration(const Json& params) {
  if (!params.is_object() || !params.contains("context") || !params["context"].is_object()) return true;
  return params["context"].value("includeDeclaration", true);
}

std::string parse_new_name(const Json& params) { return get_string(params, "newName"); }

DocumentRangeParams parse_document_range(const Json& params) {
  return DocumentRangeParams{parse_document_uri(params), parse_range(member(params, "range"))};
}

Json parse_cancel_id(const Json& params) {
  const Json& id = member(params, "id");
  if (!id.is_number_integer() && !id.is_string())
    throw ProtocolError(error_code::kInvalidParams, "`id` must be a number or a string");
  return id;
}

// ------------------------------------------------------------------ results

Converter::Converter(PositionEncoding enc, std::function<std::string_view(const std::string&)> text_of,
                     std::function<std::string(const std::string&)> uri_of)
    : enc_(enc), text_of_(std::move(text_of)), uri_of_(std::move(uri_of)) {}

const LineIndex& Converter::index(const std::string& path) {
  auto it = cache_.find(path);
  if (it == cache_.end()) {
    const std::string_view text = text_of_(path);
    it = cache_.emplace(path, std::pair<std::string_view, LineIndex>(text, LineIndex(text))).first;
  }
  return it->second.second;
}

Json Converter::range(const std::string& path, std::uint32_t begin, std::uint32_t end) {
  return range_json(index(path).range(begin, end, enc_));
}

Json Converter::location(const Location& l) {
  return Json{{"uri", uri(l.path)}, {"range", range(l.path, l.begin, l.end)}};
}

Json diagnostics_params(Converter& c, const FileDiagnostics& d, std::string_view docs_base,
                        std::optional<std::int64_t> version) {
  Json items = Json::array();
  for (const auto& x : d.items) {
    Json j{{"range", c.range(d.path, x.begin, x.end)},
           {"severity", severity_number(x.severity)},
           {"code", x.code},
           {"codeDescription", {{"href", std::string(docs_base) + x.code + ".md"}}},
           {"source", "okuri"},
           {"message", x.message}};
    if (!x.notes.empty()) {
      Json related = Json::array();
      for (const auto& n : x.notes) {
        // A note without a place is shown at the diagnostic itself.
        const Location where = n.where ? *n.where : Location{d.path, x.begin, x.end};
        related.push_back(Json{{"location", c.location(where)}, {"message", n.message}});
      }
      j["relatedInformation"] = std::move(related);
    }
    items.push_back(std::move(j));
  }
  Json params{{"uri", c.uri(d.path)}, {"diagnostics", std::move(items)}};
  if (version) params["version"] = *version;
  return params;
}

Json hover_json(Converter& c, const std::string& path, const std::optional<HoverInfo>& h) {
  if (!h) return nullptr;
  return Json{{"contents", {{"kind", "markdown"}, {"value", h->markdown}}}, {"range", c.range(path, h->begin, h->end)}};
}

Json locations_json(Converter& c, const std::vector<Location>& ls) {
  Json out = Json::array();
  for (const auto& l : ls) out.push_back(c.location(l));
  return out;
}

Json location_json(Converter& c, const std::optional<Location>& l) {
  if (!l) return nullptr;
  return c.location(*l);
}

Json text_edits_json(Converter& c, const std::string& path, const std::vector<TextEdit>& edits) {
  Json out = Json::array();
  for (const auto& e : edits) out.push_back(Json{{"range", c.range(path, e.begin, e.end)}, {"newText", e.text}});
  return out;
}

Json workspace_edit_json(Converter& c, const std::vector<FileEdits>& files) {
  Json changes = Json::object();
  for (const auto& f : files) changes[c.uri(f.path)] = text_edits_json(c, f.path, f.edits);
  return Json{{"changes", std::move(changes)}};
}

Json prepare_rename_json(Converter& c, const std::string& path, const RenameTarget& t) {
  return Json{{"range", c.range(path, t.begin, t.end)}, {"placeholder", t.name}};
}

Json document_symbols_json(Converter& c, const std::string& path, const std::vector<OutlineItem>& items) {
  Json out = Json::array();
  for (const auto& it : items) {
    Json j{{"name", it.name.empty() ? std::string("(unnamed)") : it.name},
           {"kind", symbol_kind(it.kind)},
           {"range", c.range(path, it.begin, it.end)},
           {"selectionRange", c.range(path, it.name_begin, it.name_end)}};
    if (!it.detail.empty()) j["detail"] = it.detail;
    if (!it.children.empty()) j["children"] = document_symbols_json(c, path, it.children);
    out.push_back(std::move(j));
  }
  return out;
}

Json completion_json(Converter& c, const std::string& path, const CompletionResult& r) {
  Json items = Json::array();
  const Json range = c.range(path, r.begin, r.end);
  for (const auto& it : r.items) {
    Json j{{"label", it.label},
           {"kind", completion_kind(it.kind)},
           {"textEdit", {{"range", range}, {"newText", it.label}}}};
    if (!it.detail.empty()) j["detail"] = it.detail;
    if (!it.doc.empty()) j["documentation"] = Json{{"kind", "markdown"}, {"value", it.doc}};
    items.push_back(std::move(j));
  }
  return Json{{"isIncomplete", false}, {"items", std::move(items)}};
}

Json semantic_tokens_json(Converter& c, const std::string& path, const std::vector<SemanticToken>& tokens) {
  const LineIndex& idx = c.index(path);
  Json data = Json::array();
  std::uint32_t prev_line = 0;
  std::uint32_t prev_char = 0;
  for (const auto& t : tokens) {
    const Position b = idx.position(t.begin, c.encoding());
    const Position e = idx.position(t.end, c.encoding());
    if (e.line != b.line || e.character <= b.character) continue;  // tokens never span lines
    data.push_back(b.line - prev_line);
    data.push_back(b.line == prev_line ? b.character - prev_char : b.character);
    data.push_back(e.character - b.character);
    data.push_back(static_cast<std::uint32_t>(t.type));
    data.push_back(t.modifiers);
    prev_line = b.line;
    prev_char = b.character;
  }
  return Json{{"data", std::move(data)}};
}

Json code_actions_json(Converter& c, const std::string& path, const std::vector<CodeActionInfo>& actions,
                       const FileDiagnostics& diags, std::string_view docs_base) {
  Json out = Json::array();
  for (const auto& a : actions) {
    Json edit{{"changes", {{c.uri(path), text_edits_json(c, path, {a.edit})}}}};
    Json j{{"title", a.title}, {"kind", "quickfix"}, {"edit", std::move(edit)}, {"isPreferred", a.preferred}};
    if (a.diagnostic < diags.items.size()) {
      FileDiagnostics one{diags.path, {diags.items[a.diagnostic]}};
      j["diagnostics"] = diagnostics_params(c, one, docs_base, std::nullopt)["diagnostics"];
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace okuri::lsp
