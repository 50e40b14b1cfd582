/** The admin pages' few styles beyond the site's (served as the `admin.css` asset). */
export const ADMIN_CSS = `
.admin-nav{margin:0 0 1.5rem;border-bottom:1px solid #b1b4b6}
.admin-nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem}
.admin-nav li{padding:.25rem 0 .5rem}
.admin-nav a[aria-current]{font-weight:700;text-decoration-thickness:3px}
.inline-form{display:inline-block;margin:0 .5rem .25rem 0}
.inline-form .button{padding:.25rem .6rem;font-size:.95rem}
.form-section{border-top:2px solid #0b0c0c;margin-top:2rem;padding-top:.5rem}
.checkboxes{list-style:none;padding:0;margin:0 0 1rem}
.checkboxes li{display:flex;align-items:center;gap:.5rem;margin-bottom:.4rem}
.checkboxes input{width:1.5rem;height:1.5rem;margin:0}
.checkboxes label{margin:0;font-weight:400}
.secret{font-size:1.1rem;padding:.75rem;background:#f3f2f1;border:2px solid #0b0c0c;word-break:break-all;user-select:all}
`;
