import type { Child } from 'hono/jsx';

/** A success or information banner after a change (post-redirect-get), announced to screen readers. */
export function Notice(props: { tone?: 'success' | 'info' | 'error'; title: string; children?: Child }) {
  return (
    <div class={`notice notice--${props.tone ?? 'info'}`} role={props.tone === 'error' ? 'alert' : 'status'}>
      <h2>{props.title}</h2>
      {props.children}
    </div>
  );
}

/** GOV.UK's error summary: what went wrong, linking to each field. */
export function ErrorSummary(props: { errors: { field?: string; message: string }[] }) {
  if (props.errors.length === 0) return null;
  return (
    <div class="error-summary" role="alert" tabindex={-1}>
      <h2>There is a problem</h2>
      <ul>
        {props.errors.map((e) => (
          <li>{e.field ? <a href={`#${e.field}`}>{e.message}</a> : e.message}</li>
        ))}
      </ul>
    </div>
  );
}
