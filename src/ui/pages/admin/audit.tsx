/** Admin: the audit log (docs/admin-api.md#audit-log), newest first, filtered by entity, id, action, actor. */
import { Hono } from 'hono';
import { apiJson, query, type UiContext, type UiEnv } from '../../api-call';
import { adminPage, adminUser, NextPage, type Page, TextField, timeOrDash } from './common';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entity_id: string | null;
  before: unknown;
  after: unknown;
}

const ENTITIES = ['user', 'group', 'domain', 'token'];

export function AuditTable(props: { items: AuditEntry[]; caption: string }) {
  return (
    <div class="table-wrap">
      <table class="stack" id="audit-table">
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Entity</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((e) => (
            <tr>
              <th scope="row">{timeOrDash(e.at)}</th>
              <td data-label="Who">{e.actor}</td>
              <td data-label="Action" class="mono">
                {e.action}
              </td>
              <td data-label="Entity">
                {e.entity}
                {e.entity_id ? ` ${e.entity_id}` : ''}
              </td>
              <td data-label="Change">
                <details>
                  <summary>
                    Before and after<span class="visually-hidden"> of change {e.id}</span>
                  </summary>
                  <pre>{`before: ${JSON.stringify(e.before, null, 2)}\nafter: ${JSON.stringify(e.after, null, 2)}`}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

async function auditPage(c: UiContext) {
  const me = await adminUser(c);
  const q = (name: string) => c.req.query(name)?.trim() ?? '';
  const filters = { entity: q('entity'), entity_id: q('entity_id'), action: q('action'), actor: q('actor') };
  const list = await apiJson<Page<AuditEntry>>(c, `/api/admin/audit${query({ ...filters, cursor: c.req.query('cursor'), limit: 50 })}`);
  return adminPage(
    c,
    me,
    { title: 'Audit log', section: 'audit' },
    <>
      <h1>Audit log</h1>
      <p>Every administrative change, newest first, with the entity before and after it.</p>
      <form method="get" action="/admin/audit" class="filters" aria-label="Filter the audit log">
        <div class="field">
          <label for="audit-entity">Entity</label>
          <select id="audit-entity" name="entity">
            <option value="">Any</option>
            {ENTITIES.map((e) => (
              <option value={e} selected={filters.entity === e}>
                {e}
              </option>
            ))}
          </select>
        </div>
        <TextField id="audit-entity-id" name="entity_id" label="Entity id" value={filters.entity_id} />
        <TextField id="audit-action" name="action" label="Action" hint="e.g. token.revoke" value={filters.action} />
        <TextField id="audit-actor" name="actor" label="Actor" hint="e.g. bootstrap" value={filters.actor} />
        <button type="submit" class="button button--secondary">
          Filter
        </button>
      </form>
      {list.items.length === 0 ? <p>No changes match.</p> : <AuditTable items={list.items} caption="Changes" />}
      <NextPage c={c} next={list.next_cursor} label="changes" />
    </>,
  );
}

export const auditRoutes = new Hono<UiEnv>().get('/audit', auditPage);
