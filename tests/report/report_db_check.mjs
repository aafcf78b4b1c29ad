// Holds `okuri report --json` of a running account to what LINE was sent (the recorder's log)
// and what the friends did (the events posted).
//   node report_db_check.mjs REPORT.json RECORDER.log EVENTS.jsonl FRIENDS
import fs from "node:fs";

const [jsonPath, logPath, eventsPath, friendsText] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
const friends = Number(friendsText);
let failures = 0;
function check(what, want, got) {
  if (JSON.stringify(want) !== JSON.stringify(got)) {
    failures++;
    console.error(`FAIL ${what}: wanted ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}
// Who received which offer, from the requests LINE was sent.
const texts = { offer_a: "今だけ 10%OFF", offer_b: "送料無料キャンペーン中", welcome: "友だち追加ありがとうございます" };
const got = { offer_a: new Set(), offer_b: new Set(), welcome: new Set() };
for (const line of fs.readFileSync(logPath, "utf8").trim().split("\n")) {
  const r = JSON.parse(line);
  if (r.method !== "POST" || !/\/v2\/bot\/message\/(push|multicast|reply)$/.test(r.url) || r.status >= 300) continue;
  const body = JSON.parse(r.body);
  const to = Array.isArray(body.to) ? body.to : [body.to];
  for (const m of body.messages) {
    for (const [name, text] of Object.entries(texts)) {
      if (m.type === "text" && m.text.startsWith(text)) for (const id of to) got[name].add(id);
    }
  }
}
const message = (name) => report.messages.find((m) => m.message === name);
check("friends", friends, report.friends);
for (const name of Object.keys(texts)) check(`${name}: deliveries sent equal LINE's requests`, got[name].size, message(name).pushes + message(name).replies);
const offer = report.funnel.find((f) => f.name === "offer");
check("the scenario's entries since the version started (kept across restarts)", friends, offer.entered);
check("split: friends per arm equal who received each offer", [got.offer_a.size, got.offer_b.size], offer.arms.map((a) => a.friends));
// Clicks and conversions per arm, from the events.
const armOf = (id) => (got.offer_a.has(id) ? 0 : got.offer_b.has(id) ? 1 : -1);
const clicked = [0, 0], converted = [0, 0];
let clicks = 0;
for (const line of fs.readFileSync(eventsPath, "utf8").trim().split("\n")) {
  const e = JSON.parse(line);
  const arm = armOf(e.friend);
  if (arm < 0) continue;
  if (e.type === "link_clicked") { clicked[arm]++; clicks++; }
  if (e.type === "purchased") converted[arm]++;
}
check("clicked per arm", clicked, offer.arms.map((a) => a.clicked));
check("converted per arm (goal reached after the arm)", converted, offer.arms.map((a) => a.converted));
check("clicks credited to the offers", clicks, message("offer_a").clicks + message("offer_b").clicks);
check("blocks within 3 days are unknown from a database", null, message("offer_a").blocked_within_3d);
const month = report.quota.months.at(-1);
check("this month's pushes equal the deliveries", report.deliveries.pushes, report.quota.months.reduce((n, m) => n + m.pushes, 0));
if (!month) check("a month of pushes", true, false);
if (failures > 0) process.exit(1);
console.log(`report of ${friends} friends matches LINE's requests and the events`);
