#include "runtime/jit_abi.hpp"

namespace okuri::rt {

SlotLayout::SlotLayout(const ir::Schema& s) {
  std::uint32_t next = kFixed;
  tags = next;
  next += static_cast<std::uint32_t>(s.tags.size());
  audiences = next;
  next += static_cast<std::uint32_t>(s.audiences.size());
  visited = next;
  next += static_cast<std::uint32_t>(s.visit_patterns.size());
  scores = next;
  next += static_cast<std::uint32_t>(s.scores.size());
  fields = next;
  next += 2 * static_cast<std::uint32_t>(s.fields.size());
  links = next;
  next += 2 * static_cast<std::uint32_t>(s.links.size());
  messages = next;
  next += 3 * static_cast<std::uint32_t>(s.messages.size());
  total = next;
}

std::string SlotLayout::key() const {
  return std::to_string(tags) + "/" + std::to_string(audiences) + "/" + std::to_string(visited) + "/" +
         std::to_string(scores) + "/" + std::to_string(fields) + "/" + std::to_string(links) + "/" +
         std::to_string(messages) + "/" + std::to_string(total);
}

void ColumnBinding::bind(const FriendStore& s) {
  const SlotLayout l(s.schema());
  slots.assign(l.total, nullptr);
  slots[SlotLayout::kGender] = s.gender.data();
  slots[SlotLayout::kAge] = s.age.data();
  slots[SlotLayout::kRegion] = s.region.data();
  slots[SlotLayout::kFriendSince] = s.friend_since.data();
  slots[SlotLayout::kSource] = s.source.data();
  slots[SlotLayout::kDisplayName] = s.display_name.data();
  slots[SlotLayout::kLanguage] = s.language.data();
  slots[SlotLayout::kBlocked] = s.blocked.words.data();
  slots[SlotLayout::kScore] = s.score.data();
  slots[SlotLayout::kAge8] = s.age8.data();
  slots[SlotLayout::kScore8] = s.score8.data();
  text_ptrs.resize(s.texts.size());
  text_lens.resize(s.texts.size());
  for (std::size_t i = 0; i < s.texts.size(); ++i) {
    const auto t = s.texts.get(static_cast<std::int32_t>(i));
    text_ptrs[i] = t.data();
    text_lens[i] = t.size();
  }
  slots[SlotLayout::kTextPtrs] = text_ptrs.data();
  slots[SlotLayout::kTextLens] = text_lens.data();
  for (std::size_t i = 0; i < s.tags.size(); ++i) slots[l.tag(static_cast<std::int32_t>(i))] = s.tags[i].words.data();
  for (std::size_t i = 0; i < s.audiences.size(); ++i) slots[l.audience(static_cast<std::int32_t>(i))] = s.audiences[i].words.data();
  for (std::size_t i = 0; i < s.visited.size() && i < s.schema().visit_patterns.size(); ++i) {
    slots[l.visit(static_cast<std::int32_t>(i))] = s.visited[i].words.data();
  }
  for (std::size_t i = 0; i < s.named_scores.size(); ++i) slots[l.named_score(static_cast<std::int32_t>(i))] = s.named_scores[i].data();
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    slots[l.field_values(static_cast<std::int32_t>(i))] = s.fields[i].values.data();
    slots[l.field_known(static_cast<std::int32_t>(i))] = s.fields[i].known.words.data();
  }
  for (std::size_t i = 0; i < s.links.size(); ++i) {
    slots[l.link_clicks(static_cast<std::int32_t>(i))] = s.links[i].clicks.data();
    slots[l.link_last(static_cast<std::int32_t>(i))] = s.links[i].last.data();
  }
  for (std::size_t i = 0; i < s.messages.size(); ++i) {
    slots[l.msg_sent(static_cast<std::int32_t>(i))] = s.messages[i].sent.data();
    slots[l.msg_opened(static_cast<std::int32_t>(i))] = s.messages[i].opened.data();
    slots[l.msg_last_opened(static_cast<std::int32_t>(i))] = s.messages[i].last_opened.data();
  }
}

void EventBinding::bind(const EventValues& ev) {
  ints.resize(ev.size());
  known.resize(ev.size());
  texts.resize(ev.size());
  lens.resize(ev.size());
  for (std::size_t i = 0; i < ev.size(); ++i) {
    ints[i] = ev[i].i;
    known[i] = ev[i].known ? 1 : 0;
    texts[i] = ev[i].text.data();
    lens[i] = ev[i].text.size();
  }
  abi = EventAbi{ints.data(), known.data(), texts.data(), lens.data()};
}

}  // namespace okuri::rt
