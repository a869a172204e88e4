/** The monitor's stylesheet, inlined in every page (one request per page, works offline). */
export const MONITOR_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5b6470; --bg: #fff; --line: #d7dce1; --head: #f3f5f7;
  --hl: #fff4c2; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --link: #0b5cad; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa4ae; --bg: #15181c; --line: #2f353c;
  --head: #1e2328; --hl: #4a3f12; --link: #6cb0ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); }
header { display: flex; gap: 1.2em; align-items: center; padding: .5em 1em; border-bottom: 1px solid var(--line); background: var(--head); flex-wrap: wrap; }
header .brand { font-weight: 600; }
header nav a { margin-right: 1em; }
header nav a.on { font-weight: 600; text-decoration: none; }
header .who { margin-left: auto; display: flex; gap: .6em; align-items: center; }
main { padding: 1em; }
h1 { font-size: 1.3em; margin: .2em 0 .6em; word-break: break-all; }
h2 { font-size: 1.1em; margin: 1.4em 0 .5em; }
table { border-collapse: collapse; margin: .3em 0 1em; }
th, td { border-bottom: 1px solid var(--line); padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bind td { background: var(--hl); }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; word-break: break-all; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45em; border-radius: .6em; font-size: .85em; border: 1px solid currentColor; margin-left: .3em; }
.paused, .draining, .frozen, .stale, .offline { color: var(--warn); }
.blocked, .failed, .fenced, .dropped, .dead { color: var(--bad); }
.active, .fresh, .submitted { color: var(--ok); }
form.act { display: inline; margin: 0 .15em; }
form.act button, form.login button, form.filter button { font: inherit; padding: .05em .6em; cursor: pointer; }
form.filter { margin: .3em 0 .6em; }
.spark { color: var(--link); vertical-align: middle; }
.plot .grid { stroke: var(--line); }
.plot text { fill: var(--muted); font-size: 11px; }
.msg { max-width: 40em; word-break: break-word; }
footer { padding: 1em; color: var(--muted); border-top: 1px solid var(--line); font-size: .9em; }
.notice { padding: .5em .8em; border: 1px solid var(--line); background: var(--head); margin: .5em 0; }
.error { border-color: var(--bad); }
`;
