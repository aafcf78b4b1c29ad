// Events for the report's browser test: friends added through April 2026, some clicking the
// shop link, some buying, some blocking the account. Deterministic (a fixed-seed generator), so
// every run checks the same report.
//   node make_events.mjs FRIENDS > events.jsonl
const friends = Number(process.argv[2] ?? 1000);
let seed = 20260401;
function random() {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const start = Date.parse("2026-04-01T09:00:00+09:00");
const day = 86400000;
const events = [];
for (let k = 0; k < friends; k++) {
  const friend = "U" + k.toString(16).padStart(32, "0");
  const added = start + Math.floor(random() * 28 * day / 1000) * 1000;
  events.push({ t: added, friend, type: "friend_added" });
  if (random() < 0.4) events.push({ t: added + 60000 + Math.floor(random() * 3 * day / 1000) * 1000, friend, type: "link_clicked", link: "shop" });
  if (random() < 0.12) events.push({ t: added + 120000 + Math.floor(random() * 10 * day / 1000) * 1000, friend, type: "purchased" });
  if (random() < 0.05) events.push({ t: added + 2 * day + Math.floor(random() * day / 1000) * 1000, friend, type: "friend_blocked" });
}
events.sort((a, b) => a.t - b.t || (a.friend < b.friend ? -1 : a.friend > b.friend ? 1 : 0));
const lines = events.map((e) => {
  const o = { time: new Date(e.t).toISOString(), friend: e.friend, type: e.type };
  if (e.link) o.link = e.link;
  return JSON.stringify(o);
});
process.stdout.write(lines.join("\n") + "\n");
