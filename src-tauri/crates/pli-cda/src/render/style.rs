//! The page's stylesheet: calm, readable, printable. No `url()`, no `@import`.

pub(super) const CSS: &str = r#"
:root{--ink:#1d2530;--muted:#5b6675;--line:#d9dee5;--soft:#f4f6f8;--accent:#1f5f8b;--warn:#9a3412}
*{box-sizing:border-box}
html{background:#e9edf1}
body{margin:0;padding:24px 12px;font:15px/1.5 system-ui,sans-serif;color:var(--ink)}
.cda-doc{max-width:960px;margin:0 auto;background:#fff;border:1px solid var(--line);border-radius:6px;padding:28px 36px}
h1{font-size:1.55em;line-height:1.25;margin:.1em 0 .2em}
h2{font-size:1.15em;margin:1.4em 0 .5em;color:var(--accent)}
h3,h4,h5,h6{font-size:1.02em;margin:1.1em 0 .4em}
p{margin:.35em 0}
.doc-kind{margin:0;color:var(--muted);font-size:.85em;text-transform:uppercase;letter-spacing:.04em}
.doc-meta{color:var(--muted);margin:.2em 0 1em}
.badge{display:inline-block;padding:0 .5em;border-radius:3px;background:#fff4e5;color:var(--warn);border:1px solid #f3c892;font-size:.85em}
.badge.strong{background:#fde8e8;border-color:#f0a8a8}
.notice{background:var(--soft);border-left:3px solid var(--accent);padding:.4em .8em;font-size:.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px;margin:1em 0 .5em}
.card{border:1px solid var(--line);border-radius:5px;padding:10px 14px;background:#fbfcfd}
.card h2{margin:0 0 .3em;font-size:.78em;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.card p{margin:.1em 0;font-size:.92em}
.patient-name{font-size:1.08em!important}
.patient-name .family{font-weight:650;text-transform:uppercase}
.strong{font-weight:600}
.muted{color:var(--muted)}
.mono{font-family:ui-monospace,monospace;letter-spacing:.03em}
.doc-body{border-top:1px solid var(--line);margin-top:1.2em}
.cda-section>.cda-section{margin-left:1em;padding-left:1em;border-left:2px solid var(--soft)}
.narrative{overflow-wrap:break-word}
.table-wrap+br,.table-wrap+br+br{display:none}
.table-wrap{overflow-x:auto;margin:.6em 0}
table{border-collapse:collapse;width:100%;font-size:.93em}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2em 0}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
ul,ol{margin:.4em 0;padding-left:1.6em}
.caption{font-weight:600;margin-top:.5em}
pre{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.88em;background:var(--soft);padding:.6em .8em;border-radius:4px}
ins{background:#e7f6ec;text-decoration:none;border-bottom:1px solid #5fb37a}
del{color:var(--muted)}
a{color:var(--accent)}
a.ext-link{text-decoration:underline dotted;cursor:pointer}
.link-target{color:var(--muted);font-size:.85em;overflow-wrap:anywhere}
.fn-mark a{text-decoration:none}
.footnotes{font-size:.86em;color:var(--muted);border-top:1px solid var(--line);padding-top:.3em}
figure.media{margin:.6em 0}
figure.media img{max-width:100%;height:auto;border:1px solid var(--line)}
figcaption{font-size:.86em;color:var(--muted)}
.media-note{display:inline-block;font-size:.9em;color:var(--muted)}
button.open-media{font:inherit;font-size:.9em;padding:.2em .8em;border:1px solid var(--accent);border-radius:4px;background:#fff;color:var(--accent);cursor:pointer}
.pdf-copy h2,.pdf-copy h3{color:var(--muted)}
.n1-card{display:flex;gap:16px;align-items:center;border:1px solid var(--line);border-radius:6px;padding:14px 18px;margin:1em 0;background:#fbfcfd}
.n1-icon{flex:none;width:52px;height:64px;border:2px solid var(--warn);border-radius:4px;color:var(--warn);font-weight:700;display:flex;align-items:center;justify-content:center}
.pdf-preview{max-height:none;background:#fff;border:1px solid var(--line)}
.lab-results{margin-top:1.6em}
table.results td.value{font-variant-numeric:tabular-nums;white-space:nowrap}
table.results tr.group th{background:#eaf1f7;color:var(--accent)}
table.results tr.abnormal td{font-weight:600}
table.results tr.abnormal td.flag{color:var(--warn)}
.s-bold{font-weight:650}.s-italics{font-style:italic}.s-underline{text-decoration:underline}.s-emphasis{font-style:italic;font-weight:600}
.s-lrule{border-left:2px solid var(--ink)}.s-rrule{border-right:2px solid var(--ink)}.s-toprule{border-top:2px solid var(--ink)}.s-botrule{border-bottom:2px solid var(--ink)}
.s-disc{list-style-type:disc}.s-circle{list-style-type:circle}.s-square{list-style-type:square}.s-arabic{list-style-type:decimal}
.s-little-roman{list-style-type:lower-roman}.s-big-roman{list-style-type:upper-roman}.s-little-alpha{list-style-type:lower-alpha}.s-big-alpha{list-style-type:upper-alpha}
.doc-foot{margin-top:2em;border-top:2px solid var(--line);font-size:.86em;color:#334}
.doc-foot>h2{color:var(--muted);font-size:1em;text-transform:uppercase;letter-spacing:.05em}
.foot-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:10px 24px}
.foot-block h3{margin:.4em 0 .2em;font-size:.95em}
.foot-block dl{display:grid;grid-template-columns:minmax(6em,38%) 1fr;gap:1px 10px;margin:0}
.foot-block dt{color:var(--muted)}
.foot-block dd{margin:0;overflow-wrap:anywhere}
.foot-block dd.full{grid-column:1/-1}
@media print{html{background:#fff}body{padding:0}.cda-doc{border:0;max-width:none;padding:0}button.open-media{display:none}.table-wrap{overflow:visible}.cda-section{break-inside:auto}h2,h3{break-after:avoid}}
"#;
