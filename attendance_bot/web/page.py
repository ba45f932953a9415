"""The projector page's markup: one self-contained HTML document (inline style and script under a nonce)."""

from __future__ import annotations

import html
import json

from .. import messages
from ..records import ProjectorView

# Everything the page needs is in the document; its script may only call back to the page's own
# server (its feed). Nothing else loads: no font, image, frame or form target.
_CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
    "img-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Every other response of the server (the feed, /healthz, a 404): nothing may run or load.
STRICT_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def csp(nonce: str) -> str:
    """The page's Content-Security-Policy: its own inline style and script (this nonce) and its feed."""
    return _CSP.format(nonce=nonce)


def render(view: ProjectorView, nonce: str) -> str:
    """The page of an open session: course, code, countdown, count and session id. The code, the
    countdown and the count arrive from the feed (`<page>/events`); the document holds no code."""
    text = messages.page_text(view.course_name or "", view.session_id)
    words = json.dumps(
        {"closed": text.closed, "reconnecting": text.reconnecting, "dead": text.dead}, ensure_ascii=True
    ).replace("</", "<\\/")
    e = html.escape
    return _DOCUMENT.format(
        nonce=e(nonce),
        title=e(text.title),
        course=e(view.course_name or ""),
        how=e(text.how),
        next_code=e(text.next_code),
        checked_in=e(text.checked_in),
        session=e(text.session),
        words=e(words),
    )


_DOCUMENT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style nonce="{nonce}">
html, body {{ margin: 0; height: 100%; background: #101418; color: #f4f6f8; }}
body {{ display: flex; flex-direction: column; height: 100vh; height: 100dvh; overflow: hidden;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }}
header {{ padding: 1.5vh 3vw 0; text-align: center; }}
#course {{ font-size: clamp(18px, 4.5vh, 56px); font-weight: 650; overflow-wrap: anywhere; margin: 0; }}
#how {{ font-size: clamp(13px, 2.6vh, 30px); opacity: .75; margin: .4vh 0 0; }}
main {{ flex: 1 1 auto; min-height: 0; display: flex; flex-direction: column; align-items: center;
  justify-content: center; overflow: hidden; padding: 0 3vw; }}
#code {{ font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
  font-weight: 700; line-height: 1; white-space: nowrap; letter-spacing: .06em; font-size: 20vh; }}
#notice {{ font-size: clamp(20px, 6vh, 72px); font-weight: 600; text-align: center; }}
footer {{ display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5vh 4vw; padding: 1vh 3vw 2vh;
  font-size: clamp(14px, 3.2vh, 40px); }}
footer b {{ font-variant-numeric: tabular-nums; }}
#session {{ opacity: .7; }}
.stale #code {{ opacity: .25; }}
.ended #code, .ended #tick, .ended #how {{ display: none; }}
[hidden] {{ display: none !important; }}
</style>
</head>
<body data-words="{words}">
<header><h1 id="course">{course}</h1><p id="how">{how}</p></header>
<main><div id="code" aria-live="polite"></div><div id="notice" role="status" hidden></div></main>
<footer>
<span id="tick">{next_code} <b id="left">–</b></span>
<span><b id="count">–</b> {checked_in}</span>
<span id="session">{session}</span>
</footer>
<script nonce="{nonce}">
(function () {{
  "use strict";
  var words = JSON.parse(document.body.dataset.words);
  var code = document.getElementById("code"), notice = document.getElementById("notice");
  var left = document.getElementById("left"), count = document.getElementById("count");
  var main = document.querySelector("main");
  var feed = location.pathname.replace(/\\/+$/, "") + "/events";
  var deadline = null, ended = false;

  function fit() {{
    if (!code.textContent) return;
    code.style.fontSize = "100px";
    var box = main.getBoundingClientRect(), drawn = code.getBoundingClientRect();
    var style = getComputedStyle(main);
    var width = box.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    var room = box.height - (notice.hidden ? 0 : notice.getBoundingClientRect().height);
    var scale = Math.min(width * 0.96 / drawn.width, room * 0.92 / drawn.height);
    code.style.fontSize = Math.max(8, Math.floor(100 * scale)) + "px";
  }}
  function say(line) {{
    if (notice.textContent === line) return;
    notice.textContent = line; notice.hidden = !line; fit();
  }}
  function end(line) {{
    ended = true; deadline = null; code.textContent = ""; document.body.className = "ended"; say(line);
  }}
  function tick() {{
    if (deadline === null) return;
    var rest = (deadline - performance.now()) / 1000;
    left.textContent = Math.max(0, Math.ceil(rest)) + " s";
    document.body.classList.toggle("stale", rest < -1.5);
  }}
  function show(state) {{
    if (state.state === "closed") {{ end(words.closed); return true; }}
    if (state.state === "gone") {{ end(words.dead); return true; }}
    if (state.state !== "open") return false;
    if (code.textContent !== state.code) {{ code.textContent = state.code; fit(); }}
    count.textContent = String(state.count);
    deadline = performance.now() + state.seconds_left * 1000;
    document.body.className = ""; say(""); tick();
    return false;
  }}
  async function listen() {{
    var response = await fetch(feed, {{ cache: "no-store", credentials: "omit" }});
    if (response.status === 404) {{ end(words.dead); return; }}
    if (!response.ok || !response.body) throw new Error("feed " + response.status);
    var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
    for (;;) {{
      var part = await reader.read();
      if (part.done) return;
      buffer += decoder.decode(part.value, {{ stream: true }});
      var cut;
      while ((cut = buffer.indexOf("\\n\\n")) >= 0) {{
        var lines = buffer.slice(0, cut).split("\\n");
        buffer = buffer.slice(cut + 2);
        var data = lines.filter(function (l) {{ return l.indexOf("data:") === 0; }})
          .map(function (l) {{ return l.slice(5); }}).join("\\n");
        if (data && show(JSON.parse(data))) {{ reader.cancel(); return; }}
      }}
    }}
  }}
  async function run() {{
    while (!ended) {{
      try {{ await listen(); }} catch (error) {{ /* the bot restarting, or the network: try again */ }}
      if (ended) return;
      say(words.reconnecting);
      await new Promise(function (done) {{ setTimeout(done, 1000); }});
    }}
  }}
  setInterval(tick, 250);
  addEventListener("resize", fit);
  run();
}})();
</script>
</body>
</html>
"""
