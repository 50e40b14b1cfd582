import { type SQL, sql } from 'drizzle-orm';

/**
 * How statistics name a source IP in SQL, kept in one place: the reverse DNS cache (`reverse_dns`,
 * written in the background by the sender queue) gives the host name (first forward-confirmed name,
 * else first PTR name) and the base domain; the service is `sender_map`'s entry for that base domain
 * (administrators' overrides live there), else the one cached with the lookup. The expressions name
 * the tables `rd` and `sm`, which `sourceNameJoins` joins.
 */
export const SOURCE_PTR = sql.raw(`coalesce(json_extract(rd.result, '$.confirmed[0]'), json_extract(rd.result, '$.ptr[0]'))`);
export const SOURCE_BASE_DOMAIN = sql.raw(`json_extract(rd.result, '$.base_domain')`);
export const SOURCE_SERVICE_NAME = sql.raw(`coalesce(sm.name, json_extract(rd.result, '$.service.name'))`);
export const SOURCE_SERVICE_TYPE = sql.raw(`coalesce(sm.type, json_extract(rd.result, '$.service.type'))`);

/** The joins the expressions above read, for rows whose source address is `ipColumn` (e.g. `g.source_ip`). */
export function sourceNameJoins(ipColumn: string): SQL {
  return sql.raw(`LEFT JOIN reverse_dns rd ON rd.ip = ${ipColumn}
      LEFT JOIN sender_map sm ON sm.base_domain = json_extract(rd.result, '$.base_domain')`);
}
