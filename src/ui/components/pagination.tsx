/** Previous / next links for a numbered list, keeping the other query parameters. */
export function Pagination(props: { url: string; page: number; total: number; limit: number; label?: string }) {
  const pages = Math.max(1, Math.ceil(props.total / props.limit));
  if (pages <= 1) return null;
  const href = (page: number) => {
    const url = new URL(props.url);
    url.searchParams.set('page', String(page));
    return `${url.pathname}${url.search}`;
  };
  return (
    <nav class="pagination" aria-label={props.label ?? 'Pages'}>
      {props.page > 1 ? (
        <a href={href(props.page - 1)} rel="prev">
          Previous<span class="visually-hidden"> page</span>
        </a>
      ) : null}
      <span>
        Page {props.page} of {pages}
      </span>
      {props.page < pages ? (
        <a href={href(props.page + 1)} rel="next">
          Next<span class="visually-hidden"> page</span>
        </a>
      ) : null}
    </nav>
  );
}
