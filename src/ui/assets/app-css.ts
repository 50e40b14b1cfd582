/**
 * The UI's one stylesheet, GOV.UK-like: system fonts, black on white, one link blue, thick yellow
 * focus outlines, tags that always carry text. Colours meet WCAG 2.2 AA contrast (4.5:1 for text).
 */
export const APP_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:1.0625rem;line-height:1.5;color:#0b0c0c;background:#fff}
a{color:#1d70b8;text-decoration:underline;text-underline-offset:.15em}
a:visited{color:#4c2c92}
a:hover{color:#003078;text-decoration-thickness:3px}
a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus,[tabindex]:focus{outline:3px solid #ffdd00;outline-offset:0;box-shadow:0 -2px #ffdd00,0 4px #0b0c0c}
a:focus{background:#ffdd00;color:#0b0c0c;text-decoration:none}
.skip-link{position:absolute;left:-9999px;top:0;padding:.5rem 1rem;background:#ffdd00;color:#0b0c0c}
.skip-link:focus{left:0;z-index:10}
.header{background:#0b0c0c;color:#fff;border-bottom:10px solid #1d70b8}
.header__inner,.main,.footer__inner,.phase{max-width:72rem;margin:0 auto;padding:0 1rem}
.header__inner{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 2rem;padding-top:.6rem;padding-bottom:.6rem}
.header a{color:#fff}
.header a:focus{color:#0b0c0c}
.header__name{font-weight:700;font-size:1.25rem;text-decoration:none}
.nav{flex:1}
.nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}
.nav a{font-weight:600;text-decoration:none}
.nav a[aria-current]{text-decoration:underline;text-decoration-thickness:3px}
.account{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;font-size:.95rem}
.account form{margin:0}
.link-button{background:none;border:0;padding:0;font:inherit;color:inherit;text-decoration:underline;cursor:pointer}
.phase{padding-top:.5rem;padding-bottom:.5rem;border-bottom:1px solid #b1b4b6;font-size:.9rem}
.main{padding-top:1.5rem;padding-bottom:3rem}
.footer{border-top:1px solid #b1b4b6;background:#f3f2f1;font-size:.9rem}
.footer__inner{padding-top:1.5rem;padding-bottom:1.5rem}
h1{font-size:2rem;line-height:1.2;margin:0 0 1.5rem;overflow-wrap:anywhere}
/* Domain names, records and advice have long unbroken words: wrap them rather than widen a phone's page. */
h2,h3,h4,p,li,dd,td,code{overflow-wrap:anywhere}
h2{font-size:1.5rem;line-height:1.25;margin:2rem 0 1rem}
h3{font-size:1.2rem;margin:1.5rem 0 .75rem}
p,ul,ol,dl{margin:0 0 1rem}
.lede{font-size:1.2rem}
.hint{color:#505a5f;font-size:.95rem;margin:0 0 .5rem}
.caption{color:#505a5f;font-size:1.1rem;display:block;margin-bottom:.25rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{white-space:pre-wrap;word-break:break-all;background:#f3f2f1;padding:.75rem;border-left:4px solid #b1b4b6}
.breadcrumbs{font-size:.95rem;margin-bottom:1rem}
.breadcrumbs ol{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.25rem}
.breadcrumbs li+li::before{content:"›";margin-right:.25rem;color:#505a5f}
/* Tables scroll sideways on a phone instead of squashing. */
.table-wrap{overflow-x:auto;margin-bottom:1.5rem}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:700;font-size:1.1rem;padding-bottom:.5rem}
th,td{text-align:left;vertical-align:top;padding:.6rem .75rem .6rem 0;border-bottom:1px solid #b1b4b6}
th{font-weight:700}
td.num,th.num{text-align:right}
/* Tags: the text says the meaning, the colour only repeats it. */
.tag{display:inline-block;padding:.1rem .45rem;font-size:.85rem;font-weight:700;letter-spacing:.02em;border:1px solid currentColor;border-radius:2px;white-space:nowrap}
.tag--good{color:#005a30;background:#cce2d8}
.tag--warn{color:#594d00;background:#fff7bf}
.tag--bad{color:#942514;background:#f6d7d2}
.tag--info{color:#0c2d4a;background:#d2e2f1}
.tag--none{color:#383f43;background:#eeefef}
.badges{display:flex;flex-wrap:wrap;gap:.3rem}
.badge-label{font-weight:400}
/* Forms */
.field{margin-bottom:1.25rem}
label,legend{display:block;font-weight:700;margin-bottom:.3rem}
input[type=text],input[type=search],input[type=email],input[type=date],input[type=month],input[type=number],select,textarea{font:inherit;padding:.4rem;border:2px solid #0b0c0c;border-radius:0;background:#fff;color:#0b0c0c;max-width:100%}
input[type=text],input[type=search],input[type=email],textarea{width:100%;max-width:30rem}
textarea{min-height:8rem;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
fieldset{border:0;padding:0;margin:0 0 1rem}
.button{display:inline-block;font:inherit;font-weight:600;padding:.45rem .9rem;border:0;border-radius:0;background:#00703c;color:#fff;box-shadow:0 2px 0 #002d18;cursor:pointer;text-decoration:none}
.button:hover{background:#005a30;color:#fff}
.button:focus{background:#ffdd00;color:#0b0c0c;box-shadow:0 2px 0 #0b0c0c}
.button--secondary{background:#f3f2f1;color:#0b0c0c;box-shadow:0 2px 0 #929191}
.button--secondary:hover{background:#dbdad9;color:#0b0c0c}
.button--warning{background:#d4351c;box-shadow:0 2px 0 #55150b}
.filters{display:flex;flex-wrap:wrap;gap:.75rem 1.25rem;align-items:flex-end;background:#f3f2f1;padding:1rem;margin-bottom:1.5rem}
.filters .field{margin:0}
.filters input[type=search]{width:16rem}
.actions{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:1rem 0 1.5rem}
.actions form{margin:0}
/* Notices */
.notice{border:5px solid #1d70b8;padding:1rem;margin-bottom:1.5rem}
.notice--success{border-color:#00703c}
.notice--error{border-color:#d4351c}
.notice h2{margin-top:0;font-size:1.2rem}
.notice :last-child{margin-bottom:0}
.error-summary{border:5px solid #d4351c;padding:1rem;margin-bottom:1.5rem}
.error-summary h2{margin-top:0}
.field-error{color:#d4351c;font-weight:700}
/* Summary lists (key: value) */
.summary{display:grid;grid-template-columns:minmax(8rem,14rem) 1fr;gap:0;margin-bottom:1.5rem}
.summary dt,.summary dd{margin:0;padding:.5rem .75rem .5rem 0;border-bottom:1px solid #b1b4b6}
.summary dt{font-weight:700}
.summary dd{overflow-wrap:anywhere}
/* Findings */
.findings{list-style:none;padding:0}
.finding{border-left:5px solid #b1b4b6;padding:.25rem 0 .25rem 1rem;margin-bottom:1.25rem}
.finding--error{border-color:#d4351c}
.finding--warning{border-color:#f47738}
.finding--info{border-color:#1d70b8}
.finding h4{margin:.25rem 0;font-size:1.05rem}
.finding p{margin:.25rem 0}
.area{border-top:2px solid #0b0c0c;padding-top:.5rem;margin-top:2rem}
.area h2{margin-top:.5rem}
/* Timeline */
.timeline{list-style:none;padding:0;margin:0 0 1.5rem;border-left:3px solid #b1b4b6}
.timeline li{position:relative;padding:0 0 1rem 1.25rem}
.timeline li::before{content:"";position:absolute;left:-.55rem;top:.4rem;width:.8rem;height:.8rem;border-radius:50%;background:#0b0c0c}
.timeline time{display:block;font-weight:700}
.pagination{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:1rem 0}
.visually-hidden{position:absolute!important;width:1px!important;height:1px!important;margin:0!important;padding:0!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;border:0!important}
details{margin-bottom:1rem}
summary{cursor:pointer;color:#1d70b8;text-decoration:underline}
@media (max-width:40rem){
  body{font-size:1rem}
  h1{font-size:1.6rem}
  h2{font-size:1.3rem}
  .summary{grid-template-columns:1fr}
  .summary dt{border-bottom:0;padding-bottom:0}
  .filters input[type=search]{width:100%}
  /* Wide tables become stacked cards on a phone. */
  table.stack thead{position:absolute;left:-9999px}
  table.stack tr{display:block;border-bottom:2px solid #b1b4b6;padding:.5rem 0}
  table.stack td{display:block;border:0;padding:.2rem 0}
  table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:700}
}
`;
