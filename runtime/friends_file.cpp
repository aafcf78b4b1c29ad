#include "runtime/friends_file.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "compiler/text_width.hpp"
#include "runtime/csv_lines.hpp"
#include "runtime/friends_chunk.hpp"
#include "runtime/id_hashes.hpp"
#include "runtime/json_error.hpp"
#include "runtime/mapped_file.hpp"
#include "stdlib/builtins.hpp"
#include "stdlib/functions.hpp"
#include "stdlib/json_depth.hpp"

namespace okuri::rt {
namespace {

using friends_detail::blank;
using friends_detail::Cell;
using friends_detail::ChunkResult;
using friends_detail::ChunkWriter;
using friends_detail::Column;
using friends_detail::column_of;
using friends_detail::count_newlines;
using friends_detail::count_rows;
using friends_detail::Kind;
using friends_detail::Lookups;
using friends_detail::split_csv;
using friends_detail::trim_spaces;

std::string shown(const simdjson::dom::element& v) {
  std::string s = simdjson::minify(v);
  if (s.size() > 60) s = s.substr(0, 57) + "…";
  return s;
}

// ------------------------------------------------------------------ the file

class Loader {
 public:
  // `mapped`: the file `text` is mapped from, or null for text in memory. `store`: where run()
  // puts the friends (null for scan(), which keeps none).
  Loader(const ir::Schema& schema, FriendStore* store, const std::string& file, std::string_view text, bool jsonl,
         const FriendsLoadOptions& o, const MappedFile* mapped)
      : out_(store),
        file_(file),
        text_(text),
        jsonl_(jsonl),
        o_(o),
        mapped_(mapped),
        tmp_(schema),
        zone_(schema.timezone.c_str()) {}

  FriendsLoaded run() {
    std::size_t first_line = 1;
    const unsigned threads = begin(std::size_t{4} << 20, first_line);  // 4 MiB: the store's rows are written in place
    // Pass 1: lines and rows per chunk, and whether its bytes are UTF-8. The first chunk that is
    // not is read only up to its bad line, and is the last read.
    parallel(threads, [&](ChunkResult& c, unsigned) { count(c); });
    std::optional<BadByte> bad_byte;
    const ChunkResult* bad_byte_chunk = nullptr;
    std::size_t rows = 0, line = first_line;
    for (auto& c : chunks_) {
      c.first_row = rows;
      c.first_line = line;
      if (c.error) {
        bad_byte = cut_at_bad_byte(c);
        bad_byte_chunk = &c;
        rows += c.rows;
        break;
      }
      rows += c.rows;
      line += lines_[static_cast<std::size_t>(&c - chunks_.data())];
    }
    tmp_.grow_to(rows, threads);
    // Pass 2: every chunk writes its own rows.
    parallel(threads, [&](ChunkResult& c, unsigned) {
      parse(c, tmp_);
      if (&c == bad_byte_chunk) restore_bad_byte(c, *bad_byte);
    });
    return finish(rows);
  }

  // The file in one pass, each chunk counted, checked and read into a store of its own (one per
  // thread, reused) that goes to `batch`; no store of every friend is built. Errors as run()'s:
  // the first bad line of the file, a repeated id included.
  FriendsLoaded scan(const FriendBatch& batch) {
    std::size_t header_lines = 1;
    const unsigned threads = begin(std::size_t{1} << 20, header_lines);  // 1 MiB: a chunk's table stays in the cache
    std::vector<FriendStore> stores;
    for (unsigned t = 0; t < threads; ++t) stores.emplace_back(tmp_.schema());
    // A hash of each good row's id, per thread (their order does not matter: a repeated hash is
    // confirmed against the file, in its order).
    std::vector<IdHashes> hashes(threads);
    parallel(threads, [&](ChunkResult& c, unsigned t) {
      // Lines and rows counted from the chunk's start: made the file's once the chunks before are read.
      c.first_line = 1;
      c.first_row = 0;
      count(c, false);
      auto bad_byte = cut_at_bad_byte(c);
      FriendStore& into = stores[t];
      into.clear_rows();
      into.grow_to(c.rows);
      c.rows = parse(c, into);  // a row of a bad line was written: c.error_row says how many are good
      into.shrink_rows(c.rows);
      if (bad_byte) restore_bad_byte(c, *bad_byte);
      const std::size_t good = c.error ? c.error_row : c.rows;
      for (const auto& [row, id] : c.odd_ids) into.set_odd_id(row, id);
      for (std::size_t r = 0, odd = 0; r < good; ++r) {
        while (odd < c.odd_ids.size() && c.odd_ids[odd].first < r) ++odd;
        hashes[t].push_back(odd < c.odd_ids.size() && c.odd_ids[odd].first == r ? id_hash(c.odd_ids[odd].second)
                                                                                : id_hash(into.ids[r]));
      }
      if (c.error) return;
      merge_texts(c, into);
      batch(into, t);
    });
    // The file's lines: each chunk's first, and the first chunk with an error.
    const ChunkResult* bad = nullptr;
    std::size_t line = header_lines, rows = 0;
    for (auto& c : chunks_) {
      const std::size_t offset = line - 1;  // chunk lines are numbered from 1
      for (auto& [name, at] : c.undeclared) at.first += offset;
      for (auto& [key, at] : c.unknown_keys) at += offset;
      c.first_line = line;
      c.first_row = rows;
      if (c.error) {
        c.error_line += offset;
        bad = &c;
        break;
      }
      line += lines_[static_cast<std::size_t>(&c - chunks_.data())];
      rows += c.rows;
    }
    std::vector<const IdHashes*> parts;
    for (const auto& h : hashes) parts.push_back(&h);
    if (const auto repeated = repeated_hashes(parts, threads); !repeated.empty()) {
      if (auto dup = first_repeated_id(repeated, bad)) throw DataError(*dup);
    }
    if (bad != nullptr) throw DataError(fmt::format("{}:{}: {}", file_, bad->error_line, *bad->error));
    FriendsLoaded out;
    out.rows = rows;
    warnings(out);
    return out;
  }

 private:
  // What run() and scan() start with: the line ends checked, the header read (`first_line`: the
  // first line after it), the file cut into chunks of about `chunk` bytes; the threads to use.
  unsigned begin(std::size_t chunk, std::size_t& first_line) {
    check_line_ends();
    std::size_t data = 0;
    if (!jsonl_) read_header(data, first_line);
    split(data, chunk);
    return threads_ =
               std::max(1u, std::min<unsigned>(o_.threads != 0 ? o_.threads : std::thread::hardware_concurrency(),
                                               static_cast<unsigned>(chunks_.size())));
  }

  FriendStore* out_;
  const std::string& file_;
  std::string_view text_;
  bool jsonl_;
  const FriendsLoadOptions& o_;
  const MappedFile* mapped_;
  FriendStore tmp_;
  const stdlib::Zone zone_;
  const Lookups names_{tmp_.schema()};
  std::vector<Column> header_;
  std::size_t header_line_ = 0;
  std::size_t id_col_ = 0;
  std::vector<ChunkResult> chunks_;
  unsigned threads_ = 1;
  std::vector<std::size_t> lines_;             // newlines per chunk
  std::atomic<std::size_t> failed_{SIZE_MAX};  // the first chunk with an error: later chunks stop
  std::mutex progress_mu_;
  std::size_t done_bytes_ = 0;

  void check_line_ends() {
    // Lines that end in a carriage return alone (old Mac OS exports) would read as one line: a
    // header and no friends, and no error. Say so instead.
    if (text_.find('\n') != std::string_view::npos) return;  // stops at the first line end
    if (const auto cr = text_.find('\r');
        cr != std::string_view::npos && (cr + 1 == text_.size() || text_[cr + 1] != '\n')) {
      throw DataError(fmt::format(
          "{}:1: lines end with a carriage return alone; save the file with LF or CRLF line endings", file_));
    }
  }

  void read_header(std::size_t& data, std::size_t& first_line) {
    std::size_t pos = 0, line_no = 0;
    while (pos < text_.size()) {
      auto e = text_.find('\n', pos);
      if (e == std::string_view::npos) e = text_.size();
      std::string_view line = text_.substr(pos, e - pos);
      const std::size_t next = e == text_.size() ? e : e + 1;
      ++line_no;
      if (!blank(line)) {
        if (const auto bad = first_invalid_utf8(line); bad != std::string_view::npos) {
          throw DataError(
              fmt::format("{}:{}: not valid UTF-8 (byte {}); save the file as UTF-8", file_, line_no, pos + bad + 1));
        }
        if (line_no == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
        std::vector<std::string_view> cells;
        std::deque<std::string> scratch;  // a deque: growing it keeps the cells already split in place
        if (!split_csv(line, cells, scratch)) throw DataError(fmt::format("{}:{}: unterminated quote", file_, line_no));
        bool has_id = false;
        for (std::size_t i = 0; i < cells.size(); ++i) {
          header_.push_back(column_of(tmp_.schema(), trim_spaces(cells[i]), o_));
          if (header_.back().kind == Kind::Id && !has_id) {
            has_id = true;
            id_col_ = i;
          }
        }
        if (!has_id) throw DataError(fmt::format("{}:{}: the header has no `id` column", file_, line_no));
        header_line_ = line_no;
        data = next;
        first_line = line_no + 1;
        return;
      }
      pos = next;
    }
  }

  // Chunks of `chunk` bytes (or where the caller asked), each ending at a line end.
  void split(std::size_t data, std::size_t chunk) {
    std::vector<std::size_t> cuts = o_.split_at;
    if (cuts.empty()) {
      for (std::size_t at = data + chunk; at < text_.size(); at += chunk) cuts.push_back(at);
    }
    std::sort(cuts.begin(), cuts.end());
    std::size_t begin = data;
    for (std::size_t at : cuts) {
      if (at <= begin) continue;
      if (at >= text_.size()) break;
      const auto nl = text_.find('\n', at - 1);
      if (nl == std::string_view::npos || nl + 1 >= text_.size()) break;
      if (nl + 1 <= begin) continue;
      ChunkResult c;
      c.begin = begin;
      c.end = nl + 1;
      chunks_.push_back(std::move(c));
      begin = nl + 1;
    }
    ChunkResult last;
    last.begin = begin;
    last.end = text_.size();
    chunks_.push_back(std::move(last));
    lines_.assign(chunks_.size(), 0);
  }

  // Runs work(chunk, thread) for every chunk before the first that failed, on `threads` threads.
  template <typename F>
  void parallel(unsigned threads, F&& work) {
    std::atomic<std::size_t> next{0};
    auto run = [&](unsigned thread) {
      for (std::size_t i = next++; i < chunks_.size(); i = next++) {
        if (i > failed_.load(std::memory_order_relaxed)) continue;
        work(chunks_[i], thread);
        release(chunks_[i]);
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(run, t);
    run(0);
    for (auto& t : pool) t.join();
  }

  // Gives the pages of a mapped chunk back: the file stays in the page cache, not in this process.
  void release(const ChunkResult& c) {
    if (mapped_ != nullptr) mapped_->release(c.begin, c.end);
  }

  void note_failed(std::size_t chunk) {
    std::size_t cur = failed_.load();
    while (chunk < cur && !failed_.compare_exchange_weak(cur, chunk)) {
    }
  }

  void populate(const ChunkResult& c) {
    if (mapped_ != nullptr) mapped_->populate(c.begin, c.end);
  }

  // A chunk's rows and lines, its bytes checked to be UTF-8. In blocks of about 64 KiB ending at a
  // line end: each is read from memory once, by the check, and counted while in the cache.
  // Without `exact`, c.rows is only at least the rows (its lines, blank ones too): what a scan
  // sizes its table by before reading the chunk, which then says how many there were.
  void count(ChunkResult& c, bool exact = true) {
    populate(c);
    const std::string_view bytes = text_.substr(c.begin, c.end - c.begin);
    const std::size_t idx = static_cast<std::size_t>(&c - chunks_.data());
    std::size_t newlines = 0, rows = 0;
    for (std::size_t pos = 0; pos < bytes.size();) {
      std::size_t end = std::min(bytes.size(), pos + (std::size_t{64} << 10));
      if (end < bytes.size()) {
        const auto nl = bytes.find('\n', end - 1);
        end = nl == std::string_view::npos ? bytes.size() : nl + 1;
      }
      const std::string_view block = bytes.substr(pos, end - pos);
      if (!simdjson::validate_utf8(block.data(), block.size())) {
        const auto bad = first_invalid_utf8(block);
        if (bad != std::string_view::npos) {
          c.error = fmt::format("not valid UTF-8 (byte {}); save the file as UTF-8", c.begin + pos + bad + 1);
          c.error_line = newlines + static_cast<std::size_t>(std::count(
                                        block.begin(), block.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
          note_failed(idx);
          return;
        }
      }
      if (exact) {
        count_rows(block, rows, newlines);
      } else {
        const std::size_t n = count_newlines(block);
        newlines += n;
        rows += n + (block.back() == '\n' ? 0 : 1);
      }
      pos = end;
    }
    c.rows = rows;
    lines_[idx] = newlines;
  }

  void fail_row(ChunkResult& c, std::size_t line, std::size_t row, std::string what) {
    c.error = std::move(what);
    c.error_line = line;
    c.error_row = row;
    note_failed(static_cast<std::size_t>(&c - chunks_.data()));
  }

  // Writes the chunk's rows into `into` from its row c.first_row on, numbering lines from c.first_line;
  // returns how many it wrote (all the chunk's rows when no line is bad).
  std::size_t parse(ChunkResult& c, FriendStore& into) {
    populate(c);
    ChunkWriter writer(into, zone_, names_, c);
    const std::string_view bytes = text_.substr(c.begin, c.end - c.begin);
    std::vector<std::string_view> cells;
    std::deque<std::string> scratch;  // a deque: growing it keeps the cells already split in place
    simdjson::dom::parser json;
    KeyColumns keys;
    std::vector<std::string_view> list;
    std::string number;
    std::size_t pos = 0, line_no = c.first_line, row = c.first_row;
    for (; pos < bytes.size() && !c.error; ++line_no) {
      const void* nl = std::memchr(bytes.data() + pos, '\n', bytes.size() - pos);
      const std::size_t e =
          nl == nullptr ? bytes.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - bytes.data());
      std::string_view line = bytes.substr(pos, e - pos);
      pos = e + 1;
      if (blank(line)) continue;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const auto r = static_cast<std::uint32_t>(row++);
      if (jsonl_) {
        parse_json(c, writer, json, keys, list, number, line, line_no, r);
      } else {
        parse_csv(c, writer, cells, scratch, line, line_no, r);
      }
    }
    std::lock_guard<std::mutex> lock(progress_mu_);
    done_bytes_ += bytes.size();
    if (o_.progress != nullptr) o_.progress->update(done_bytes_, text_.size());
    return row - c.first_row;
  }

  void parse_csv(ChunkResult& c, ChunkWriter& w, std::vector<std::string_view>& cells, std::deque<std::string>& scratch,
                 std::string_view line, std::size_t line_no, std::uint32_t row) {
    if (!split_csv(line, cells, scratch)) return fail_row(c, line_no, row, "unterminated quote");
    if (cells.size() != header_.size()) {
      return fail_row(c, line_no, row,
                      fmt::format("{} values, but the header has {} columns", cells.size(), header_.size()));
    }
    const std::string_view id = cells[id_col_];
    if (id.empty()) return fail_row(c, line_no, row, "column `id` is empty");
    w.set_id(row, id);
    for (std::size_t i = 0; i < header_.size(); ++i) {
      if (header_[i].kind == Kind::Skip || header_[i].kind == Kind::Unknown) continue;
      Cell cell;
      cell.text = cells[i];
      if (auto err = w.apply(row, header_[i], cell, line_no)) {
        return fail_row(c, line_no, row, fmt::format("column `{}`: `{}` {}", err->column, err->value, err->why));
      }
    }
  }

  // What a JSONL key names, looked up once per key in each chunk.
  using KeyColumns = std::unordered_map<std::string, Column>;

  void parse_json(ChunkResult& c, ChunkWriter& w, simdjson::dom::parser& parser, KeyColumns& columns,
                  std::vector<std::string_view>& list, std::string& number, std::string_view line, std::size_t line_no,
                  std::uint32_t row) {
    if (stdlib::json_too_deep(line)) {
      return fail_row(c, line_no, row,
                      fmt::format("not accepted: JSON nested deeper than {} levels", stdlib::kJsonDepthLimit));
    }
    simdjson::dom::element doc;
    if (auto err = parser.parse(line.data(), line.size()).get(doc); err != simdjson::SUCCESS) {
      return fail_row(c, line_no, row, fmt::format("not valid JSON: {}", json_error_text(err)));
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS)
      return fail_row(c, line_no, row, "a friend must be a JSON object");
    std::string_view id;
    if (obj["id"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
      return fail_row(c, line_no, row, "column `id` is missing or not a string");
    }
    w.set_id(row, id);
    for (auto field : obj) {
      const std::string_view key = field.key;
      if (key == "id") continue;
      const auto val = field.value;
      if (val.is_null()) continue;
      auto known = columns.find(std::string(key));
      if (known == columns.end()) known = columns.emplace(std::string(key), column_of(tmp_.schema(), key, o_)).first;
      const Column& col = known->second;
      if (col.kind == Kind::Unknown) {
        c.unknown_keys.try_emplace(std::string(key), line_no);
        continue;
      }
      if (col.kind == Kind::Skip) continue;
      Cell cell;
      switch (val.type()) {
        case simdjson::dom::element_type::STRING:
          cell.text = val.get_string().value_unsafe();
          break;
        case simdjson::dom::element_type::BOOL:
          cell.is_bool = true;
          cell.boolean = val.get_bool().value_unsafe();
          cell.text = cell.boolean ? "true" : "false";
          break;
        case simdjson::dom::element_type::INT64:
          number = std::to_string(val.get_int64().value_unsafe());
          cell.text = number;
          break;
        case simdjson::dom::element_type::UINT64:
          number = std::to_string(val.get_uint64().value_unsafe());
          cell.text = number;
          break;
        case simdjson::dom::element_type::ARRAY: {
          list.clear();
          simdjson::dom::array items;
          if (val.get(items) != simdjson::SUCCESS) break;
          for (auto item : items) {
            std::string_view s;
            if (item.get_string().get(s) != simdjson::SUCCESS) {
              return fail_row(c, line_no, row,
                              fmt::format("column `{}`: `{}` must be a list of names", key, shown(val)));
            }
            list.push_back(s);
          }
          cell.list = &list;
          break;
        }
        case simdjson::dom::element_type::OBJECT:
        case simdjson::dom::element_type::DOUBLE:
        case simdjson::dom::element_type::NULL_VALUE:
          return fail_row(c, line_no, row,
                          fmt::format("column `{}`: `{}` has a type this column does not take", key, shown(val)));
      }
      if (auto err = w.apply(row, col, cell, line_no)) {
        return fail_row(c, line_no, row, fmt::format("column `{}`: `{}` {}", err->column, err->value, err->why));
      }
    }
  }

  // The line of a row (for a duplicate id, found after every chunk has been read).
  std::size_t line_of_row(std::size_t row) const {
    const auto& c = *std::prev(std::upper_bound(chunks_.begin(), chunks_.end(), row,
                                                [](std::size_t r, const ChunkResult& x) { return r < x.first_row; }));
    std::size_t pos = c.begin, line = c.first_line, k = c.first_row;
    while (pos < c.end) {
      auto e = text_.find('\n', pos);
      if (e == std::string_view::npos || e > c.end) e = c.end;
      if (!blank(text_.substr(pos, e - pos))) {
        if (k == row) return line;
        ++k;
      }
      pos = e + 1;
      ++line;
    }
    return line;
  }

  FriendsLoaded finish(std::size_t rows) {
    // The first bad line, and the rows before it (only those were all read).
    const ChunkResult* bad = nullptr;
    for (const auto& c : chunks_) {
      if (c.error) {
        bad = &c;
        break;
      }
    }
    const std::size_t good_rows = bad != nullptr ? bad->error_row : rows;
    for (const auto& c : chunks_) {
      if (c.first_row >= good_rows && &c != bad) break;
      for (const auto& [row, id] : c.odd_ids) tmp_.set_odd_id(row, id);
    }
    // Only the rows read before the error have their ids.
    if (auto dup = tmp_.index_rows(0, static_cast<std::uint32_t>(good_rows), threads_)) {
      throw DataError(
          fmt::format("{}:{}: column `id`: `{}` appears twice", file_, line_of_row(*dup), tmp_.id_of(*dup)));
    }
    if (bad != nullptr) throw DataError(fmt::format("{}:{}: {}", file_, bad->error_line, *bad->error));
    // Texts: each chunk's, in file order, into the store's pool (ids as one reader would give).
    for (auto& c : chunks_) merge_texts(c, tmp_);
    FriendsLoaded out;
    out.rows = rows;
    warnings(out);
    if (out_->size() != 0) throw DataError(fmt::format("{}: friends are already loaded", file_));
    *out_ = std::move(tmp_);
    return out;
  }

  // A chunk whose bytes are not all UTF-8 (count() found where) is read up to its bad line only,
  // so that an error on a line before it is still the first; then the bad byte is its error.
  struct BadByte {
    std::string error;
    std::size_t line = 0;  // in the chunk, from 1
  };
  std::optional<BadByte> cut_at_bad_byte(ChunkResult& c) const {
    if (!c.error) return std::nullopt;
    BadByte b{std::move(*c.error), c.error_line + 1};
    c.error.reset();
    std::size_t at = c.begin;
    for (std::size_t l = 1; l < b.line; ++l) at = text_.find('\n', at) + 1;
    c.end = at;
    c.rows = 0;
    std::size_t newlines = 0;
    count_rows(text_.substr(c.begin, c.end - c.begin), c.rows, newlines);
    return b;
  }
  void restore_bad_byte(ChunkResult& c, BadByte& b) {
    if (c.error) return;  // a line before it was bad
    c.error = std::move(b.error);
    c.error_line = c.first_line + b.line - 1;
    c.error_row = c.first_row + c.rows;
    note_failed(static_cast<std::size_t>(&c - chunks_.data()));
  }

  // scan(): the first row, in file order, whose id an earlier row has (before the first bad line),
  // looked for only among the ids whose hash repeats; none when the hashes alone collided.
  std::optional<std::string> first_repeated_id(const std::vector<std::uint64_t>& repeated, const ChunkResult* bad) {
    const std::unordered_set<std::uint64_t> suspects(repeated.begin(), repeated.end());
    std::unordered_set<std::string> seen;  // the suspects' ids: packed bytes, or text
    std::vector<std::string_view> cells;
    std::deque<std::string> scratch;
    simdjson::dom::parser json;
    for (const auto& c : chunks_) {
      const std::size_t rows = &c == bad ? c.error_row : c.rows;
      std::size_t pos = c.begin, line = c.first_line;
      for (std::size_t row = 0; pos < c.end && row < rows; ++line) {
        auto e = text_.find('\n', pos);
        if (e == std::string_view::npos || e > c.end) e = c.end;
        std::string_view l = text_.substr(pos, e - pos);
        pos = e + 1;
        if (blank(l)) continue;
        ++row;
        if (l.back() == '\r') l.remove_suffix(1);
        std::string_view id;
        if (jsonl_) {
          simdjson::dom::element doc;
          if (json.parse(l.data(), l.size()).get(doc) != simdjson::SUCCESS || doc["id"].get_string().get(id)) continue;
        } else {
          if (!split_csv(l, cells, scratch) || cells.size() <= id_col_) continue;
          id = cells[id_col_];
        }
        const auto packed = pack_line_id(id);
        if (suspects.count(packed ? id_hash(*packed) : id_hash(id)) == 0) continue;
        const std::string key = packed ? "P" + std::string(packed->begin(), packed->end()) : "T" + std::string(id);
        if (!seen.insert(key).second) {
          return fmt::format("{}:{}: column `id`: `{}` appears twice", file_, line,
                             packed ? unpack_line_id(*packed) : std::string(id));
        }
      }
      if (&c == bad) break;
    }
    return std::nullopt;
  }

  // The texts a chunk interned on its own, into the pool of the store its rows are in.
  static void merge_texts(const ChunkResult& c, FriendStore& into) {
    std::vector<std::int32_t> to(c.texts.size());
    for (std::size_t i = 0; i < to.size(); ++i) to[i] = into.texts.intern(c.texts.get(static_cast<std::int32_t>(i)));
    if (to.empty()) return;
    auto remap = [&](auto& column) {
      for (std::size_t r = c.first_row; r < c.first_row + c.rows; ++r) {
        if (column[r] <= -2) column[r] = to[static_cast<std::size_t>(-column[r] - 2)];
      }
    };
    remap(into.source);
    remap(into.display_name);
    remap(into.language);
    for (std::size_t f = 0; f < into.fields.size(); ++f) {
      if (into.schema().fields[f].type.kind == TypeKind::Text) remap(into.fields[f].values);
    }
  }

  void warnings(FriendsLoaded& out) const {
    for (const auto& col : header_) {
      if (col.kind == Kind::Unknown) {
        out.warnings.push_back(
            fmt::format("{}:{}: column `{}` is not a friend column or a field of the project; ignored", file_,
                        header_line_, col.name));
      }
    }
    std::map<std::string, std::size_t> keys;
    std::map<std::string, std::pair<std::size_t, std::size_t>> names;
    for (const auto& c : chunks_) {
      for (const auto& [k, line] : c.unknown_keys) keys.try_emplace(k, line);
      for (const auto& [n, at] : c.undeclared) {
        auto [it, fresh] = names.try_emplace(n, at);
        if (!fresh) it->second.second += at.second;
      }
    }
    for (const auto& [k, line] : keys) {
      out.warnings.push_back(
          fmt::format("{}:{}: key `{}` is not a friend column or a field of the project; ignored", file_, line, k));
    }
    for (const auto& [n, at] : names) {
      out.warnings.push_back(fmt::format("{}:{}: {} is not declared in the project; ignored ({} row{})", file_,
                                         at.first, n, at.second, at.second == 1 ? "" : "s"));
    }
  }
};

std::unique_ptr<MappedFile> map_file(const std::string& path) {
  try {
    return std::make_unique<MappedFile>(path);
  } catch (const std::runtime_error& e) {
    throw DataError(e.what());
  }
}

bool is_jsonl(const std::string& path) {
  return path.size() >= 5 && (path.substr(path.size() - 5) == "jsonl" || path.substr(path.size() - 5) == ".json");
}

}  // namespace

std::set<std::string> friend_columns_read(const ir::Schema& schema, const std::vector<ir::Predicate>& preds) {
  std::set<std::string> out;
  for (const auto& p : preds) {
    for (const auto& n : p.nodes) {
      switch (n.op) {
        case ir::Op::Attr: {
          // An attribute is read from the column of its name (friend_days from friend_since);
          // today and now are not in the file.
          static const char* const kNames[] = {
#define OKURI_ATTRIBUTE(id, name, type, unknown, doc) name,
#include "stdlib/attributes.def"
#undef OKURI_ATTRIBUTE
          };
          const std::string_view name = kNames[n.a];
          if (name == "friend_days") {
            out.insert("friend_since");
          } else if (stdlib::find_friend_column(name) != nullptr) {
            out.insert(std::string(name));
          }
          break;
        }
        case ir::Op::Field:
          out.insert(schema.fields[static_cast<std::size_t>(n.a)].name);
          break;
        case ir::Op::NamedScore:
          out.insert("score." + schema.scores[static_cast<std::size_t>(n.a)]);
          break;
        case ir::Op::Tagged:
          out.insert("tags");
          break;
        case ir::Op::InAudience:
          out.insert("audiences");
          break;
        default:
          break;
      }
    }
  }
  return out;
}

FriendsLoaded load_friends_text(FriendStore& store, const std::string& file, std::string_view text, bool jsonl,
                                const FriendsLoadOptions& options) {
  Loader loader(store.schema(), &store, file, text, jsonl, options, nullptr);
  return loader.run();
}

FriendsLoaded load_friends(FriendStore& store, const std::string& path, const FriendsLoadOptions& options) {
  const auto f = map_file(path);
  Loader loader(store.schema(), &store, path, f->text(), is_jsonl(path), options, f.get());
  return loader.run();
}

FriendsLoaded scan_friends(const ir::Schema& schema, const std::string& path, const FriendsLoadOptions& options,
                           const FriendBatch& batch) {
  const auto f = map_file(path);
  Loader loader(schema, nullptr, path, f->text(), is_jsonl(path), options, f.get());
  return loader.scan(batch);
}

FriendsLoaded scan_friends_text(const ir::Schema& schema, const std::string& shown_path, std::string_view text,
                                bool jsonl, const FriendsLoadOptions& options, const FriendBatch& batch) {
  Loader loader(schema, nullptr, shown_path, text, jsonl, options, nullptr);
  return loader.scan(batch);
}

}  // namespace okuri::rt