import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Handler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../auth/authenticate';
import packageJson from '../../../package.json';
import { json } from './responses';
import { SECURITY_SCHEMES } from './security';

const DESCRIPTION = [
  'Email-security monitoring: DMARC and SMTP TLS reports, domain checks, statistics. docs/api.md explains the conventions.',
  '',
  '- Errors are RFC 9457 problem documents (`application/problem+json`); a 400 names each failing field in `detail` and `errors`.',
  "- Lists use keyset pagination: `limit` (1–500, default 50) and `cursor` (the previous page's `next_cursor`).",
  '- A security requirement lists the scope the route needs (`read`, `ingest`, `probe`, `admin`); an empty list means any signed-in principal.',
  "- Members see only their groups' domains and sub-domains; other domains answer 404.",
].join('\n');

export const OPENAPI_PATH = '/api/openapi.json';

const openApiRoute = createRoute({
  method: 'get',
  path: OPENAPI_PATH,
  summary: 'This document',
  description: 'Public: it describes the API, not anyone\'s data (the IP allow-list still applies).',
  tags: ['meta'],
  security: [],
  responses: { 200: json(z.record(z.string(), z.unknown()).meta({ description: 'An OpenAPI 3.1 document.' }), 'The OpenAPI 3.1 document.') },
});

function buildDocument(app: OpenAPIHono<AppEnv>) {
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'MailCheck Edge API', version: packageJson.version, description: DESCRIPTION, license: { name: packageJson.license } },
  });
  document.components = { ...document.components, securitySchemes: { ...SECURITY_SCHEMES } };
  return document;
}

/**
 * The handler of GET /api/openapi.json for `app`, whose registry gathers every route declared on the
 * routers mounted on it. The document is built on the first request (all routes are mounted by
 * then) and kept for the isolate's life. No `servers`: it is relative to wherever it is served.
 */
export function serveOpenApi(app: OpenAPIHono<AppEnv>): Handler<AppEnv> {
  app.openAPIRegistry.registerPath(openApiRoute);
  let document: ReturnType<typeof buildDocument> | undefined;
  return (c) => c.json((document ??= buildDocument(app)));
}
