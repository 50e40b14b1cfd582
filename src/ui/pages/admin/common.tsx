/**
 * Pieces the admin pages share: the section's sub-navigation, the notice shown after a change
 * (post-redirect-get: the redirect carries a fixed message key, never text from the request), the
 * error summary for a refused change, form fields, and the calls that change things.
 */
import type { Child } from 'hono/jsx';
import { apiCall, apiJson, currentUser, type ApiResult, type Me, type Problem, type UiContext } from '../../api-call';
import { assetUrl } from '../../assets/index';
import { page } from '../../layout';

export type AdminSection = 'overview' | 'users' | 'groups' | 'domains' | 'tokens' | 'audit' | 'inbound';

export interface User {
  id: number;
  email: string;
  name: string | null;
  role: 'admin' | 'member';
  created_at: string;
  groups?: { id: number; name: string }[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

const NOTICES: Record<string, string> = {
  'user-created': 'User added.',
  'user-updated': 'User saved.',
  'user-deleted': 'User deleted: their memberships are removed and their API tokens revoked.',
  'group-created': 'Group created.',
  'group-renamed': 'Group renamed.',
  'group-deleted': 'Group deleted. Its users and domains are kept.',
  'member-added': 'Member added to the group.',
  'member-removed': 'Member removed from the group.',
  'domain-linked': 'The group now owns the domain.',
  'domain-unlinked': 'The group no longer owns the domain.',
  'notifications-saved': 'Notification settings saved.',
  'domain-created': 'Domain added.',
  'domain-deleted': 'Domain deleted.',
  'token-revoked': 'Token revoked: it is refused from now on.',
};

const SECTIONS: [AdminSection, string, string][] = [
  ['overview', '/admin', 'Overview'],
  ['users', '/admin/users', 'Users'],
  ['groups', '/admin/groups', 'Groups'],
  ['domains', '/admin/domains', 'Domains'],
  ['tokens', '/admin/tokens', 'API tokens'],
  ['audit', '/admin/audit', 'Audit log'],
  ['inbound', '/admin/inbound', 'Inbound messages'],
];

function AdminNav(props: { active: AdminSection }) {
  return (
    <nav class="admin-nav" aria-label="Administration">
      <ul>
        {SECTIONS.map(([key, href, label]) => (
          <li>
            <a href={href} aria-current={key === props.active ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** The success notice named by `?notice=` after a redirect; unknown keys show nothing. */
function Notice(props: { c: UiContext }) {
  const text = NOTICES[props.c.req.query('notice') ?? ''];
  if (!text) return null;
  return (
    <div class="notice notice--success" role="status">
      <p>{text}</p>
    </div>
  );
}

/** A refused change: what the API said, with each field it named. */
export function ErrorSummary(props: { problem: Problem | null | undefined }) {
  const p = props.problem;
  if (!p) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1}>
      <h2 id="error-summary-title">There is a problem</h2>
      {p.errors && p.errors.length > 0 ? (
        <ul>
          {p.errors.map((e) => (
            <li>{e.path === '(body)' ? e.message : `${e.path.replace(/_/g, ' ')}: ${e.message}`}</li>
          ))}
        </ul>
      ) : (
        <p>{p.detail ?? p.title}</p>
      )}
    </div>
  );
}

/** Renders an admin page: the layout, the admin sub-navigation, the notice after a change. */
export function adminPage(c: UiContext, me: Me, options: { title: string; section: AdminSection; status?: 200 | 201 | 400 | 404 | 409 }, body: Child) {
  return page(
    c,
    { title: `${options.title} – Admin`, active: 'admin', me, status: options.status ?? 200 },
    <>
      <link rel="stylesheet" href={assetUrl('admin.css')} />
      <AdminNav active={options.section} />
      <Notice c={c} />
      {body}
    </>,
  );
}

/** The signed-in person, and proof they may administer: the API's 403 becomes the friendly page. */
export async function adminUser(c: UiContext): Promise<Me> {
  const me = await currentUser(c);
  await apiJson(c, '/api/admin/users?limit=1');
  return me;
}

/** The form fields posted, each as one string (checkbox groups with `all`). */
export async function formFields(c: UiContext): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true });
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value)) fields[key] = value.filter((v): v is string => typeof v === 'string');
    else if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}

export function field(fields: Record<string, string | string[]>, name: string): string {
  const value = fields[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

export function fieldList(fields: Record<string, string | string[]>, name: string): string[] {
  const value = fields[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** After a change: see the result with a GET (post-redirect-get), so reloading never repeats it. */
export function done(c: UiContext, path: string, notice: string): Response {
  const url = new URL(path, c.req.url);
  url.searchParams.set('notice', notice);
  return c.redirect(`${url.pathname}${url.search}${url.hash}`, 303);
}

/** The status to answer a refused change with (the API's, limited to what the page renders). */
export function refusedStatus(result: ApiResult<unknown>): 400 | 404 | 409 {
  return result.status === 404 ? 404 : result.status === 409 ? 409 : 400;
}

/** A user's id from their email, the way an administrator knows them. */
export async function userIdByEmail(c: UiContext, email: string): Promise<number | Problem> {
  const wanted = email.trim().toLowerCase();
  if (!wanted) return { title: 'Bad Request', status: 400, errors: [{ path: 'email', message: 'enter the email address of a user' }] };
  const found = await apiCall<Page<User>>(c, `/api/admin/users?search=${encodeURIComponent(wanted)}&limit=100`);
  if (!found.ok) return found.problem;
  const user = found.data.items.find((u) => u.email === wanted);
  return user ? user.id : { title: 'Not Found', status: 404, errors: [{ path: 'email', message: `no user has the email ${wanted}` }] };
}

/** A text input with its label, hint and the error the API gave for it. */
export function TextField(props: {
  id: string;
  name: string;
  label: string;
  hint?: string;
  value?: string;
  type?: 'text' | 'email' | 'search' | 'number' | 'url';
  required?: boolean;
  autocomplete?: string;
  problem?: Problem | null;
  errorPath?: string;
  min?: number;
  max?: number;
}) {
  const error = props.problem?.errors?.find((e) => e.path === (props.errorPath ?? props.name))?.message;
  const describedBy = [props.hint ? `${props.id}-hint` : '', error ? `${props.id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${props.id}-error`}>
          <span class="visually-hidden">Error:</span> {error}
        </p>
      ) : null}
      <input
        type={props.type ?? 'text'}
        id={props.id}
        name={props.name}
        value={props.value ?? ''}
        required={props.required}
        autocomplete={props.autocomplete ?? 'off'}
        aria-describedby={describedBy}
        aria-invalid={error ? 'true' : undefined}
        min={props.min}
        max={props.max}
        spellcheck={props.type === 'email' || props.type === 'url' ? false : undefined}
      />
    </div>
  );
}

/** "Next page" for the admin lists' keyset pagination, keeping the other query parameters. */
export function NextPage(props: { c: UiContext; next: string | null; label: string }) {
  const url = new URL(props.c.req.url);
  url.searchParams.delete('notice');
  const first = url.searchParams.has('cursor');
  url.searchParams.delete('cursor');
  const firstHref = `${url.pathname}${url.search}`;
  if (props.next) url.searchParams.set('cursor', props.next);
  if (!first && !props.next) return null;
  return (
    <nav class="pagination" aria-label={`Pages of ${props.label}`}>
      {first ? <a href={firstHref}>First page</a> : null}
      {props.next ? <a href={`${url.pathname}${url.search}`}>Next page of {props.label}</a> : null}
    </nav>
  );
}

/** A button that posts to `action`: deletions and revocations (the app script asks to confirm). */
export function PostButton(props: { action: string; label: Child; confirm?: string; warning?: boolean; hidden?: Record<string, string> }) {
  return (
    <form method="post" action={props.action} data-confirm={props.confirm} class="inline-form">
      {Object.entries(props.hidden ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.warning ? 'button button--warning' : 'button button--secondary'}>
        {props.label}
      </button>
    </form>
  );
}

export function timeOrDash(at: string | null | undefined): string {
  return at ? at.replace('T', ' ').replace(/:\d{2}(\.\d+)?Z$/, ' UTC') : '–';
}
