#include "report/page_assets.hpp"

namespace okuri::report {

// LINE's green for what the account does; quiet greys for everything else. One column on a phone.
const char* page_css() {
  return R"css(
:root{--green:#06c755;--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.55 -apple-system,"Hiragino Sans","Noto Sans CJK JP","Yu Gothic",sans-serif;color:var(--ink);background:var(--bg)}
header{background:#fff;border-bottom:1px solid var(--line);padding:12px 16px}
header h1{font-size:18px;margin:0}
header p{margin:2px 0 6px;color:var(--muted);font-size:13px}
nav{display:flex;gap:14px;overflow-x:auto;white-space:nowrap;font-size:14px}
nav a{color:var(--green);text-decoration:none;font-weight:600}
main{max-width:1100px;margin:0 auto;padding:12px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 16px;margin:12px 0}
h2{font-size:17px;margin:4px 0 6px}
h3{font-size:15px;margin:14px 0 6px}
.note{color:var(--muted);font-size:13px;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;background:none;border:0;padding:0}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.card .label{color:var(--muted);font-size:12px}
.card .value{font-size:22px;font-weight:700}
.pic{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:6px 0}
.pic svg{max-width:none;height:auto}
.flow{border-top:1px solid var(--line);padding-top:6px}
.flow .kind{font-size:12px;color:#fff;background:var(--green);border-radius:4px;padding:1px 6px;vertical-align:middle}
.totals{font-size:13px;color:var(--muted);margin:0}
svg g.node[id^="fc-"]{cursor:pointer}
svg g.node[id^="ov-"]{cursor:pointer}
svg g.node.picked polygon,svg g.node.picked path,svg g.node.picked ellipse{stroke:#e5534b;stroke-width:3}
.places{border:1px solid var(--green);border-radius:8px;padding:8px 12px;margin:6px 0;background:#f3fcf6}
.places h4{margin:0 0 4px;font-size:14px}
.places ul{margin:4px 0;padding-left:18px;columns:2 220px}
.places button{background:none;border:0;color:var(--green);cursor:pointer;font:inherit;padding:0;text-decoration:underline}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left;white-space:normal}
.notes{color:#9a6700;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}
.message{border:1px solid var(--line);border-radius:10px;padding:8px 12px}
.message h3{margin:4px 0}
.phone{background:#8cabd8;border-radius:10px;padding:10px;display:flex;flex-direction:column;gap:6px;max-height:520px;overflow:auto}
.who{font-size:12px;color:var(--muted);margin:4px 0}
.message dl{display:grid;grid-template-columns:1fr auto;gap:2px 10px;font-size:13px;margin:6px 0 0}
.message dt{color:var(--muted)}
.message dd{margin:0;text-align:right}
.verdict{white-space:normal;font-size:12px;color:var(--muted);max-width:340px;text-align:left}
.verdict.sig{color:#1a7f37;font-weight:600}
.pic svg.chart{max-width:100%;height:auto}
.chart rect.push{fill:var(--green)}
.chart rect.reply{fill:#b6e3c6}
.chart line.allowance{stroke:#e5534b;stroke-width:1.5}
.chart text.allowance{fill:#e5534b}
.chart line.forecast{stroke:var(--ink);stroke-width:2;stroke-dasharray:4 3}
.chart text{font-size:11px;fill:var(--muted)}
.legend{display:flex;gap:14px;font-size:12px;color:var(--muted)}
.legend span::before{content:"";display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
.legend .push::before{background:var(--green)}
.legend .reply::before{background:#b6e3c6}
.legend .forecast::before{border-top:2px dashed var(--ink);height:0}
#friend-search{width:100%;max-width:420px;font:inherit;padding:8px 10px;border:1px solid var(--line);border-radius:8px}
#timeline-out{background:var(--bg);border-radius:8px;padding:10px;overflow-x:auto;font-size:12px;white-space:pre}
footer{text-align:center;color:var(--muted);font-size:12px;padding:16px}
.chat{display:flex;flex-direction:column;gap:6px}
.msg{display:flex}
.bubble{max-width:85%;background:#fff;border-radius:16px;padding:8px 12px;white-space:pre-wrap;word-break:break-word}
.ph{background:#f2f2f2;border:1px dashed #999;color:#555;font-size:12px;text-align:center;border-radius:10px;padding:10px 14px}
.sticker .ph{width:120px;height:120px;display:flex;flex-direction:column;justify-content:center}
.media .ph{width:220px;min-height:140px;display:flex;flex-direction:column;justify-content:center}
.carousel{display:flex;gap:8px;overflow-x:auto;max-width:100%}
.fx-bubble,.tpl-col{flex:0 0 auto;width:250px;background:#fff;border-radius:14px;overflow:hidden}
.tpl{display:flex}
.tpl-col{padding:0 0 6px}
.tpl-title{font-weight:700;padding:8px 12px 0}
.tpl-text{padding:4px 12px;white-space:pre-wrap}
.fx-header,.fx-body,.fx-footer{padding:12px}
.fx-box{display:flex;min-width:0}
.fx-text{white-space:pre-wrap;word-break:break-word;min-width:0}
.fx-image{background:#e6e6e6;color:#555;display:flex;align-items:center;justify-content:center;font-size:12px;width:100%}
.fx-button{display:block;text-align:center;border-radius:8px;padding:8px;font-weight:600;margin:2px 0}
.fx-button.primary{background:var(--green);color:#fff}
.fx-button.secondary{background:#eee;color:var(--ink)}
.fx-button.link{color:#2b6cb0}
.fx-sep{border-top:1px solid #ddd;margin:4px 0;align-self:stretch}
@media (max-width:600px){main{padding:6px}section{padding:10px}}
)css";
}

// A node click lists the friends waiting there (a sample with the count); an overview click
// jumps to the flowchart; the search box shows a sampled friend's timeline. Data: #okuri-report.
const char* page_js() {
  return R"js(
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("okuri-report").textContent);
  var words = data.words;
  function fmt(n) { return Number(n).toLocaleString("en-US"); }
  function showTimeline(id) {
    var out = document.getElementById("timeline-out");
    var lines = data.page.timelines[id];
    out.hidden = false;
    if (lines) {
      out.textContent = lines.length ? lines.join("\n") : words.timeline_none;
    } else {
      out.textContent = words.timeline_not_sampled;
    }
  }
  function pick(svg, g) {
    svg.querySelectorAll("g.node.picked").forEach(function (x) { x.classList.remove("picked"); });
    g.classList.add("picked");
  }
  document.querySelectorAll("article.flow").forEach(function (article) {
    var f = Number(article.dataset.flow);
    var box = article.querySelector(".places");
    article.querySelectorAll('svg g.node[id^="fc-"]').forEach(function (g) {
      var node = Number(g.id.split("-")[2]);
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      function open() {
        pick(article, g);
        var place = data.page.places[f][node];
        var title = (g.querySelector("title") || {}).textContent || "";
        var html = "<h4>" + words.friends_here + ": <code></code> — " + words.waiting + " " +
          '<span class="n" data-count="/funnel/' + f + "/steps/" + node + '/waiting">' + fmt(place.count) + "</span></h4>";
        box.innerHTML = html;
        box.querySelector("code").textContent = title;
        if (!place.count) {
          box.insertAdjacentHTML("beforeend", "<p>" + words.nobody_here + "</p>");
        } else {
          if (place.sample.length < place.count) {
            var p = document.createElement("p");
            p.textContent = words.sample_of.replace("{n}", fmt(place.count)).replace("{k}", place.sample.length);
            box.appendChild(p);
          }
          var ul = document.createElement("ul");
          place.sample.forEach(function (id) {
            var li = document.createElement("li");
            var b = document.createElement("button");
            b.type = "button";
            b.textContent = id;
            b.title = words.open_timeline;
            b.addEventListener("click", function () {
              document.getElementById("friend-search").value = id;
              showTimeline(id);
              document.getElementById("timeline").scrollIntoView();
            });
            li.appendChild(b);
            ul.appendChild(li);
          });
          box.appendChild(ul);
        }
        box.hidden = false;
      }
      g.addEventListener("click", open);
      g.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
    });
  });
  document.querySelectorAll('#overview svg g.node[id^="ov-"]').forEach(function (g) {
    g.addEventListener("click", function () {
      var target = document.getElementById("flow-" + g.id.split("-")[1]);
      if (target) target.scrollIntoView();
    });
  });
  var search = document.getElementById("friend-search");
  search.addEventListener("change", function () { showTimeline(search.value.trim()); });
  search.addEventListener("keydown", function (e) { if (e.key === "Enter") showTimeline(search.value.trim()); });
})();
)js";
}

}  // namespace okuri::report
