// What actions do to a friend (tags, scores, fields, starting and stopping scenarios, rich
// menus, staff notifications) and how a send becomes a delivery (reply or push, its time, its
// key, and — when asked — its rendered LINE message objects).
#include <fmt/format.h>

#include "runtime/engine_impl.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::rt {

void Engine::Impl::raise(stdlib::EventId type, std::string_view arg) {
  const auto t = static_cast<int>(type);
  pending_raised.push_back(Raised{t, plan.event_types[static_cast<std::size_t>(t)], arg, nullptr});
}

void Engine::Impl::actions(std::uint32_t row, const std::vector<plan::Op>& ops, Ctx& ctx, std::int32_t flow,
                           const std::string& node, const EventValues* evs) {
  for (const auto& op : ops) action(row, op, ctx, flow, node, evs);
}

void Engine::Impl::action(std::uint32_t row, const plan::Op& op, Ctx& ctx, std::int32_t flow, const std::string& node,
                          const EventValues* evs) {
  FriendStore& st = *store;
  switch (op.kind) {
    case plan::OpKind::Send:
    case plan::OpKind::Reply:
      emit(row, op.messages, op.kind == plan::OpKind::Reply, ctx, flow, node, nullptr);
      return;
    case plan::OpKind::Tag:
    case plan::OpKind::Untag: {
      const bool on = op.kind == plan::OpKind::Tag;
      for (std::size_t k = 0; k < op.items.size(); ++k) {
        auto& bm = st.tags[static_cast<std::size_t>(op.items[k])];
        if (bm.get(row) == on) continue;
        bm.set(row, on);
        if (tracing(row))
          note(row, TraceKind::Action, flow, node, fmt::format("{} {}", on ? "tag" : "untag", op.names[k]));
        raise(on ? stdlib::EventId::TagAdded : stdlib::EventId::TagRemoved, op.names[k]);
      }
      return;
    }
    case plan::OpKind::Score: {
      const Value x = val(op.value, row, evs);
      std::int64_t* slot = op.target < 0 ? &st.score[row] : &st.named_scores[static_cast<std::size_t>(op.target)][row];
      const std::int64_t n = x.known ? x.i : 0;
      const std::int64_t before = *slot;
      switch (op.mode) {
        // Scores saturate at the ends of 64 bits rather than wrap (docs/language.md, 6.4).
        case plan::ScoreMode::Add:
          if (__builtin_add_overflow(*slot, n, slot)) *slot = n > 0 ? INT64_MAX : INT64_MIN;
          break;
        case plan::ScoreMode::Sub:
          if (__builtin_sub_overflow(*slot, n, slot)) *slot = n < 0 ? INT64_MAX : INT64_MIN;
          break;
        case plan::ScoreMode::Assign:
          *slot = n;
          break;
      }
      if (op.target < 0) st.score8[row] = narrow_value(*slot);  // the scan column follows
      if (tracing(row)) {
        note(row, TraceKind::Action, flow, node,
             fmt::format("{} {} → {}", op.target < 0 ? std::string("score") : "score(" + op.target_name + ")", before,
                         *slot));
      }
      return;
    }
    case plan::OpKind::SetField: {
      const auto& info = plan.schema.fields[static_cast<std::size_t>(op.target)];
      Value x = val(op.value, row, evs);
      if (op.mask) x = Value{true, *op.mask, {}};
      auto& col = st.fields[static_cast<std::size_t>(op.target)];
      if (op.set_mode != plan::SetMode::Assign) {
        // `add` to an unknown set starts it; `remove` from one leaves it unknown.
        const bool known = col.known.get(row);
        if (!known && op.set_mode == plan::SetMode::Remove) return;
        const std::int64_t before = known ? col.values[row] : 0;
        x.i = op.set_mode == plan::SetMode::Add ? (before | x.i) : (before & ~x.i);
      }
      std::int64_t nv = x.i;
      if (info.type.kind == TypeKind::Text && x.known) nv = st.texts.intern(x.text);
      const bool was = col.known.get(row);
      const bool changed = was != x.known || (x.known && col.values[row] != nv);
      if (x.known) col.values[row] = nv;
      col.known.set(row, x.known);
      if (tracing(row)) {
        const std::string now_text = value_text(x, info.type, info.values, *zone);
        const bool add = op.set_mode == plan::SetMode::Add;
        note(row, TraceKind::Action, flow, node,
             op.set_mode == plan::SetMode::Assign
                 ? fmt::format("set {} = {}", op.target_name, now_text)
                 : fmt::format("{} {} {} {} → {}", add ? "add" : "remove", op.value_text, add ? "to" : "from",
                               op.target_name, now_text));
      }
      if (changed) raise(stdlib::EventId::FieldChanged, op.target_name);
      return;
    }
    case plan::OpKind::ClearField: {
      auto& col = st.fields[static_cast<std::size_t>(op.target)];
      const bool was = col.known.get(row);
      col.known.set(row, false);
      if (tracing(row)) note(row, TraceKind::Action, flow, node, "clear " + op.target_name);
      if (was) raise(stdlib::EventId::FieldChanged, op.target_name);
      return;
    }
    case plan::OpKind::Start:
      for (const auto f : op.items)
        enter(row, static_cast<std::size_t>(f), ctx, fmt::format("`start {}` at {}", op.names[0], node));
      return;
    case plan::OpKind::Stop:
      for (const auto f : op.items)
        leave(row, static_cast<std::size_t>(f), fmt::format("`stop {}` at {}", op.names[0], node));
      return;
    case plan::OpKind::If: {
      // `if` inside a rule: the first arm whose condition holds, else the `else` block.
      for (const auto& a : op.arms) {
        const bool ok = a.cond >= 0 && test(a.cond, row, evs);
        if (tracing(row) && a.cond >= 0) {
          note(row, TraceKind::Branch, flow, node,
               fmt::format("`if {}`: {} ({})", a.text, ok ? "true" : "false", inputs(a.cond, row, evs)));
        }
        if (ok) {
          actions(row, a.body, ctx, flow, node, evs);
          return;
        }
      }
      if (op.else_body) actions(row, *op.else_body, ctx, flow, node, evs);
      return;
    }
    case plan::OpKind::Menu:
      if (tracing(row)) note(row, TraceKind::Action, flow, node, "menu " + op.text);
      menu_links.push_back(MenuLink{
          now, row, op.text,
          delivery_key(store->id_of(row), "menu", static_cast<std::uint32_t>(menu_links_made), node, rule_seq[row]++)});
      ++menu_links_made;
      return;
    case plan::OpKind::Notify: {
      ++notifications;
      Notification n;
      n.time = now;
      n.row = row;
      n.text = renderer.text(plan.notify_texts[static_cast<std::size_t>(op.notify)], render_context(row, ctx.input));
      n.flow = flow;
      n.node = node;
      // Unique per notification (the outbox retries by it); not from the friend's rule sequence,
      // which numbers the friend's sends.
      n.key = delivery_key(store->id_of(row), "notify", static_cast<std::uint32_t>(notifications), node,
                           static_cast<std::uint32_t>(now));
      if (tracing(row)) note(row, TraceKind::Action, flow, node, fmt::format("notify \"{}\"", n.text));
      notifications_out.push_back(std::move(n));
      return;
    }
    case plan::OpKind::Pass:
      return;
  }
}

void Engine::Impl::emit(std::uint32_t row, const std::vector<plan::MessageId>& msgs, bool reply_stmt, Ctx& ctx,
                        std::int32_t flow, const std::string& node, Instance* ins) {
  Delivery d;
  d.logical = now;
  d.row = row;
  d.messages = msgs;
  d.flow = flow;
  d.node = node;
  const bool blocked = store->blocked.get(row);
  std::string how;
  if (ctx.replyable && !ctx.token_used && !blocked) {
    d.reply = true;
    d.reply_token = std::string(ctx.token);
    ctx.token_used = true;
  } else if (reply_stmt) {
    how = ctx.replyable ? " (the reply token was used already: sent as a push)" : " (no reply token: sent as a push)";
  }
  if (blocked) {
    d.skipped = true;
    d.time = now;
  } else if (d.reply) {
    d.time = now;
  } else {
    d.time = schedule.book(row, now, d.deferred_by);
  }
  FriendStore::IdText fid_text;
  const std::string_view fid = store->id_view(row, fid_text);
  if (ins != nullptr) {
    d.key = delivery_key(fid, flows[static_cast<std::size_t>(flow)].name, ins->times, node, ins->seq++);
  } else {
    d.key = delivery_key(fid, "rules", 0, node, rule_seq[row]++);
  }
  if (!d.skipped) {
    for (auto m : msgs) ++store->messages[m].sent[row];
    if (opt.render) {
      // What the friend reads is fixed when the scenario sends it, from their state now.
      d.rendered = renderer.messages(msgs, render_context(row, nullptr));
      d.needs_profile = store->display_name[row] == kUnknownText && renderer.reads_profile(msgs);
    }
  }
  if (tracing(row)) {
    std::string names;
    for (auto m : msgs) names += (names.empty() ? "" : ", ") + plan.schema.messages[m];
    std::string text;
    if (d.skipped) {
      text = fmt::format("{} not sent: the friend has blocked the account (skipped)", names);
    } else if (d.reply) {
      text = fmt::format("reply {}", names);
    } else if (d.time != d.logical) {
      text = fmt::format("push {}{}, deferred by {} to {}", names, how, d.deferred_by, format_time(d.time, *zone));
    } else {
      text = fmt::format("push {}{}", names, how);
    }
    note(row, TraceKind::Send, flow, node, text);
  }
  ++delivery_total;
  if (delivery_sink) {
    delivery_sink(std::move(d));
  } else if (opt.keep_deliveries) {
    deliveries.push_back(std::move(d));
  }
}

}  // namespace okuri::rt
