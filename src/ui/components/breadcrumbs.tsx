/** The breadcrumb trail above a page's heading: links to the pages above it, and optionally the page itself. */
export interface Crumb {
  href: string;
  label: string;
}

export function Breadcrumbs(props: { trail: Crumb[]; current?: string }) {
  return (
    <nav class="breadcrumbs" aria-label="Breadcrumb">
      <ol>
        {props.trail.map((crumb) => (
          <li>
            <a href={crumb.href}>{crumb.label}</a>
          </li>
        ))}
        {props.current === undefined ? null : <li aria-current="page">{props.current}</li>}
      </ol>
    </nav>
  );
}

/** Domains › <domain>: the start of the trail of every page about one domain. */
export function domainTrail(domain: string): Crumb[] {
  return [
    { href: '/', label: 'Domains' },
    { href: `/domains/${encodeURIComponent(domain)}`, label: domain },
  ];
}
