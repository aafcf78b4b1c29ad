// The HTML report in a real browser (Debian's Chromium, headless, through puppeteer-core).
//   node report_test.mjs CHROMIUM REPORT.html REPORT.json DELIVERIES.jsonl|- EVENTS.jsonl|- SCREENSHOT.png [BIG.html]
// Checks: no console errors; every count on the page equals the JSON report's (the file
// `simulate --report` wrote, not only the copy in the page); one flowchart node per step; a node
// click lists the friends waiting there; the timeline search; the A/B figures against a reference
// computed here from the deliveries and the events alone; with BIG.html, a 100,000-friend report
// opens in under 2 s and weighs under 5 MB.
import fs from "node:fs";
import puppeteer from "puppeteer-core";

const [chromium, htmlPath, jsonPath, deliveriesPath, eventsPath, screenshot, bigPath] = process.argv.slice(2);
let failures = 0;
function check(what, ok, detail = "") {
  if (!ok) {
    failures++;
    console.error(`FAIL ${what}${detail ? ": " + detail : ""}`);
  } else {
    console.log(`ok   ${what}`);
  }
}
function near(a, b, eps = 1e-5) {
  return Math.abs(a - b) <= eps;
}

// ---- The reference: Wilson's interval, Newcombe's difference interval, the pooled z-test.
const Z = 1.959963984540054;
function wilson(k, n) {
  if (n === 0) return [0, 0];
  const p = k / n, z2 = Z * Z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
function erfc(x) {
  // Numerical Recipes' erfcc: fractional error under 1.2e-7.
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
function compare(ck, cn, ak, an) {
  const p1 = ck / cn, p2 = ak / an, d = p2 - p1;
  const [l1, u1] = wilson(ck, cn), [l2, u2] = wilson(ak, an);
  const lo = d - Math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), hi = d + Math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2);
  const pooled = (ck + ak) / (cn + an);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / cn + 1 / an));
  const p = se > 0 ? erfc(Math.abs(d / se) / Math.SQRT2) : 1;
  return { d, lo, hi, p };
}

// Arms from what was delivered: offer_a is arm a, offer_b arm b (tests/report/project).
const report = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
// A running account's report (`okuri report`) has no deliveries or events file: "-" for both.
const simulated = deliveriesPath !== "-";
const lines = (path) => (simulated ? fs.readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : []);
const deliveries = lines(deliveriesPath);
const events = lines(eventsPath);
const armOf = new Map(); // friend → {arm, at}
for (const d of deliveries) {
  for (const m of d.messages) {
    if (m === "offer_a" || m === "offer_b") armOf.set(d.friend, { arm: m === "offer_a" ? "a" : "b", at: Date.parse(d.time) });
  }
}
const ref = { a: { friends: 0, clicked: 0, converted: 0 }, b: { friends: 0, clicked: 0, converted: 0 } };
for (const [, x] of armOf) ref[x.arm].friends++;
const clicked = new Set(), converted = new Set();
for (const e of events) {
  const x = armOf.get(e.friend);
  if (!x) continue;
  const t = Date.parse(e.time);
  if (e.type === "link_clicked" && t >= x.at && !clicked.has(e.friend)) {
    clicked.add(e.friend);
    ref[x.arm].clicked++;
  }
  if (e.type === "purchased" && t >= x.at && t <= x.at + 7 * 86400000 && !converted.has(e.friend)) {
    converted.add(e.friend);
    ref[x.arm].converted++;
  }
}

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push("request failed: " + r.url()));
  const requests = [];
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url()); });
  await page.goto("file://" + fs.realpathSync(htmlPath), { waitUntil: "load" });

  // Counts.
  const embedded = await page.evaluate(() => JSON.parse(document.getElementById("okuri-report").textContent).report);
  check("the page embeds the JSON report as written", JSON.stringify(embedded) === JSON.stringify(report));
  const shown = await page.$$eval("[data-count]", (xs) => xs.map((x) => [x.dataset.count, x.textContent]));
  const pointer = (p) => p.split("/").slice(1).reduce((o, k) => (o == null ? undefined : o[k]), report);
  // A figure the source cannot know (null: blocks within 3 days of a running account) shows "—".
  const wrong = shown.filter(([p, text]) => (pointer(p) === null ? text !== "—" : Number(text.replace(/,/g, "")) !== pointer(p)));
  check(`every count on the page equals the JSON report's (${shown.length} counts)`, shown.length > 50 && wrong.length === 0,
    wrong.slice(0, 5).map(([p, t]) => `${p} shows ${t}, the report has ${pointer(p)}`).join("; "));

  // Flowcharts: one node per step.
  for (let f = 0; f < report.funnel.length; f++) {
    const nodes = await page.$$eval(`#flow-${f} svg g.node`, (xs) => xs.length);
    check(`flowchart of ${report.funnel[f].name} has one node per step (${report.funnel[f].steps.length})`, nodes === report.funnel[f].steps.length,
      `${nodes} nodes`);
  }
  const overview = await page.$$eval('#overview svg g.node[id^="ov-"]', (xs) => xs.length);
  check("the overview shows every scenario and broadcast", overview === report.funnel.length, `${overview}`);

  // A node click: the friends waiting there.
  const f0 = report.funnel.findIndex((x) => x.name === "offer");
  const waitNode = report.funnel[f0].steps.findIndex((s) => s.kind === "wait");
  await page.click(`#fc-${f0}-${waitNode}`);
  const panel = await page.$eval(`#flow-${f0} .places`, (x) => ({ hidden: x.hidden, count: x.querySelector("[data-count]")?.textContent, friends: x.querySelectorAll("li").length }));
  const waiting = report.funnel[f0].steps[waitNode].waiting;
  check("a node click lists the friends waiting there", !panel.hidden && Number(panel.count.replace(/,/g, "")) === waiting && panel.friends === Math.min(20, waiting),
    JSON.stringify(panel));

  if (simulated) {
  // Timelines.
  const someone = deliveries.find((d) => d.messages.includes("offer_b")).friend;
  await page.type("#friend-search", someone);
  await page.keyboard.press("Enter");
  const timeline = await page.$eval("#timeline-out", (x) => x.textContent);
  check("the search box gives a friend's timeline", timeline.includes("enter") && timeline.includes("offer_b"), timeline.slice(0, 200));

  // A/B against the reference.
  const arms = report.funnel[f0].arms;
  for (const a of arms) {
    const r = ref[a.arm];
    check(`arm ${a.arm}: friends, clicked and converted match the reference`, a.friends === r.friends && a.clicked === r.clicked && a.converted === r.converted,
      `report ${JSON.stringify(a)} reference ${JSON.stringify(r)}`);
  }
  const rows = await page.$$eval("table.ab tr[data-arm]", (xs) => xs.map((x) => {
    const rate = x.querySelector(".rate"), diff = x.querySelector(".diff");
    return { arm: x.dataset.arm, rate: Number(rate.dataset.rate), lo: Number(rate.dataset.lo), hi: Number(rate.dataset.hi),
      text: rate.textContent, diff: diff && { d: Number(diff.dataset.difference), lo: Number(diff.dataset.lo), hi: Number(diff.dataset.hi), p: Number(diff.dataset.p) },
      verdict: x.querySelector(".verdict")?.textContent ?? "" };
  }));
  check("the A/B table has both arms", rows.length === 2, JSON.stringify(rows));
  for (const row of rows) {
    const r = ref[row.arm];
    const [lo, hi] = wilson(r.converted, r.friends);
    check(`arm ${row.arm}: rate and 95% interval match the reference`,
      near(row.rate, r.converted / r.friends) && near(row.lo, lo) && near(row.hi, hi) && row.text === (100 * r.converted / r.friends).toFixed(1) + "%",
      JSON.stringify(row));
    if (row.diff) {
      const c = compare(ref.a.converted, ref.a.friends, r.converted, r.friends);
      check(`arm ${row.arm} against the control: difference, interval and p match the reference`,
        near(row.diff.d, c.d) && near(row.diff.lo, c.lo) && near(row.diff.hi, c.hi) && near(row.diff.p, c.p, 1e-4) && row.verdict.length > 10,
        `${JSON.stringify(row.diff)} reference ${JSON.stringify(c)}`);
    }
  }
  }
  check("the page asks for nothing over the network", requests.length === 0, requests.join(", "));
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check("on a phone the page does not scroll sideways (pictures and tables scroll inside)", overflow <= 1, `${overflow}px`);
  check("no console errors", errors.length === 0, errors.join(" | "));

  if (bigPath) {
    const size = fs.statSync(bigPath).size;
    check(`the 100,000-friend report stays under 5 MB (${(size / 1e6).toFixed(2)} MB)`, size < 5e6);
    const big = await browser.newPage();
    const bigErrors = [];
    big.on("pageerror", (e) => bigErrors.push(String(e)));
    big.on("console", (m) => { if (m.type() === "error") bigErrors.push(m.text()); });
    const t0 = Date.now();
    await big.goto("file://" + fs.realpathSync(bigPath), { waitUntil: "load" });
    const ms = Date.now() - t0;
    check(`the 100,000-friend report opens in under 2 s (${ms} ms)`, ms < 2000);
    check("the 100,000-friend report has no console errors", bigErrors.length === 0, bigErrors.join(" | "));
  }
} finally {
  await browser.close();
}
if (failures > 0) {
  console.error(`report: ${failures} failed`);
  process.exit(1);
}
console.log("report: all passed");
