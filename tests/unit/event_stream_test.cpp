// Event files as a stream: in time order within the sort window, merged across files, and a clear
// error for an event that comes too late.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "compiler/workspace.hpp"
#include "runtime/engine.hpp"
#include "runtime/event_stream.hpp"

using namespace okuri;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / fmt::format("okuri-stream-{}", std::random_device{}());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

std::string line(std::int64_t minute, const std::string& friend_id) {
  return fmt::format(R"({{"time":"2026-03-01T{:02}:{:02}:00Z","friend":"{}","type":"friend_added"}})", minute / 60,
                     minute % 60, friend_id);
}

std::vector<rt::InputEvent> read_all(const rt::EventCatalog& cat, const std::vector<std::string>& files,
                                     rt::EventStreamOptions o = {}) {
  rt::EventStream s(cat, files, o);
  std::vector<rt::InputEvent> all, batch;
  while (s.next(batch)) {
    for (auto& e : batch) all.push_back(std::move(e));
  }
  return all;
}

}  // namespace

TEST_CASE("events out of order within the window come out as a stable sort would put them", "[events-stream]") {
  auto p = compile_sources(".", {{"a.okuri", "tag t\n"}});
  rt::EventCatalog cat(*p);
  TempDir dir;
  std::mt19937 rng(3);
  // 20,000 events in minute order, each moved back by up to 59 minutes; several per minute.
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    const int minute = std::max(0, i / 20 - static_cast<int>(rng() % 60));
    text += line(minute % 1440, fmt::format("U{}", i)) + "\n";
    if (rng() % 50 == 0) text += "\n";
  }
  const auto file = dir.write("e.jsonl", text);
  rt::EventReader reader(cat);
  auto want = reader.read_jsonl(file, text);
  rt::sort_by_time(want);
  for (const std::size_t batch : {1u, 7u, 4096u}) {
    rt::EventStreamOptions o;
    o.batch = batch;
    const auto got = read_all(cat, {file}, o);
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO("batch " << batch << ", event " << i);
      REQUIRE(got[i].friend_id == want[i].friend_id);
      REQUIRE(got[i].time_ms == want[i].time_ms);
    }
  }
}

TEST_CASE("an event earlier than the window allows is an error at its line", "[events-stream]") {
  auto p = compile_sources(".", {{"a.okuri", "tag t\n"}});
  rt::EventCatalog cat(*p);
  TempDir dir;
  const auto file = dir.write(
      "e.jsonl", line(0, "U1") + "\n" + line(200, "U2") + "\n" + line(150, "U3") + "\n" + line(30, "U4") + "\n");
  // Within 1 hour: U3 (50 minutes early) is put in order; U4 is 2 h 50 min early.
  try {
    read_all(cat, {file});
    FAIL("no error");
  } catch (const rt::EventError& e) {
    const std::string what = e.what();
    CHECK(what.rfind(
              file + ":4: this event (2026-03-01T00:30:00Z) comes 2h 50m before one already read at " + file + ":2",
              0) == 0);
    CHECK(what.find("out of time order by at most 1h") != std::string::npos);
    CHECK(what.find("Sort the file by time") != std::string::npos);
    CHECK(what.find("--sort-window") != std::string::npos);
  }
  // A wider window takes it.
  rt::EventStreamOptions wide;
  wide.window_ms = 3 * 3600 * 1000;
  const auto all = read_all(cat, {file}, wide);
  REQUIRE(all.size() == 4);
  CHECK(all[0].friend_id == "U1");
  CHECK(all[1].friend_id == "U4");
  CHECK(all[2].friend_id == "U3");
  CHECK(all[3].friend_id == "U2");
}

TEST_CASE("several files are merged by time, the first file first at equal times", "[events-stream]") {
  auto p = compile_sources(".", {{"a.okuri", "tag t\n"}});
  rt::EventCatalog cat(*p);
  TempDir dir;
  const auto a = dir.write("a.jsonl", line(0, "A0") + "\n" + line(10, "A10") + "\n" + line(20, "A20") + "\n");
  const auto b = dir.write("b.jsonl", line(5, "B5") + "\n" + line(10, "B10") + "\n");
  const auto hook = dir.write(
      "w.json",
      R"({"destination":"x","events":[{"type":"follow","webhookEventId":"01H","timestamp":1772324100000,)"
      R"("deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"W15"},"replyToken":"r"}]})");
  std::vector<std::string> order;
  for (const auto& e : read_all(cat, {a, b, hook})) order.push_back(e.friend_id);
  CHECK(order == std::vector<std::string>{"A0", "B5", "A10", "B10", "W15", "A20"});
}

TEST_CASE("a bad line in a stream names its file and line", "[events-stream]") {
  auto p = compile_sources(".", {{"a.okuri", "tag t\n"}});
  rt::EventCatalog cat(*p);
  TempDir dir;
  const auto file =
      dir.write("e.jsonl", line(0, "U1") + "\n" + "{\"time\":\"soon\",\"friend\":\"U2\",\"type\":\"friend_added\"}\n");
  try {
    read_all(cat, {file});
    FAIL("no error");
  } catch (const rt::EventError& e) {
    CHECK(std::string(e.what()).rfind(file + ":2: field `time`", 0) == 0);
  }
  CHECK_THROWS_AS(read_all(cat, {(dir.path / "missing.jsonl").string()}), rt::EventError);
}

TEST_CASE("the stream's friend keys are the store's, and the engine finds the same friends with them",
          "[events-stream]") {
  auto p = compile_sources(".", {{"a.okuri", "message hi text \"hi\"\non friend_added { send hi }\n"}});
  rt::EventCatalog cat(*p);
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    // LINE ids (packed in the store) and other ids, some friends seen more than once.
    const std::string id = i % 3 == 0 ? fmt::format("friend-{}", i % 500) : fmt::format("U{:032x}", i % 700);
    text += line(i / 10, id) + "\n";
  }
  const auto file = dir.write("e.jsonl", text);
  rt::Engine with_keys(*p), without(*p);
  rt::EventStreamOptions o;
  o.batch = 64;
  rt::EventStream s(cat, {file}, o);
  std::vector<rt::InputEvent> batch;
  std::vector<rt::FriendStore::IdKey> keys;
  std::vector<std::uint32_t> rows_a, rows_b;
  std::size_t seen = 0;
  while (s.next(batch, &keys)) {
    REQUIRE(keys.size() == batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto want = rt::FriendStore::key_of(batch[i].friend_id);
      REQUIRE(keys[i].hash == want.hash);
      REQUIRE(keys[i].packed == want.packed);
    }
    with_keys.handle_all(batch, {}, &rows_a, &keys);
    without.handle_all(batch, {}, &rows_b);
    REQUIRE(rows_a == rows_b);
    seen += batch.size();
  }
  CHECK(seen == 3000);
  CHECK(keys.empty());
  CHECK(with_keys.store().size() == without.store().size());
  CHECK(with_keys.delivery_count() == without.delivery_count());
}
