"""The report's stylesheet, inlined so the file opens anywhere without a network.

Exports `CSS`.
"""

CSS = """
:root { --ink: #1a202c; --muted: #4a5568; --line: #e2e8f0; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #f7fafc;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 36px 60px; background: #fff; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; line-height: 1.25; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-top: 10px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 6px; }
.meta { color: var(--muted); font-size: 13px; }
nav { font-size: 13px; margin: 12px 0 0; }
nav a { display: inline-block; color: var(--accent); margin-right: 14px; text-decoration: none; }
.keys { display: flex; gap: 14px; flex-wrap: wrap; margin: 18px 0 6px; }
.key { flex: 1 1 200px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.key b { display: block; font-size: 24px; color: var(--accent); }
.key span { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13.5px; }
caption { text-align: left; color: var(--muted); font-size: 13px; padding-bottom: 4px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { text-align: left; font-weight: 600; background: #edf2f7; }
td.count, td.pct, td.rate, td.ci, th.count, th.pct, th.rate, th.ci { text-align: right;
  font-variant-numeric: tabular-nums; }
td.count, td.pct, td.rate, td.ci, td.label { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafcfe; }
.chart { margin: 10px 0 4px; overflow-x: auto; }
.chart svg { max-width: 100%; height: auto; }
.synthetic { background: #fefcbf; border: 2px solid #b7791f; border-radius: 6px;
  padding: 8px 14px; margin: 0 0 14px; }
.note { color: var(--muted); font-size: 13px; margin: 2px 0 12px; }
.pass { color: #276749; } .fail { color: #9b2c2c; }
dl.limits dt { font-weight: 600; margin-top: 10px; }
dl.limits dd { margin: 2px 0 0 0; }
@media print { body { background: #fff; } main { padding: 0; } nav { display: none; }
  section { break-inside: avoid-page; } }
"""
