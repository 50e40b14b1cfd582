import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { maxMessageBytes } from '../ingest/email-handler';
import { receiveMessage } from '../ingest/receive';
import { ApiRouter } from './openapi/api-router';
import { json, problems } from './openapi/responses';
import { access } from './openapi/security';
import { problem } from './problem';

function filenameFrom(disposition: string | undefined): string | null {
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? '');
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1]; // not percent-encoded after all: a hint only, keep it as sent
  }
}

const uploadReport = createRoute({
  method: 'post',
  path: '/reports',
  summary: 'Upload a report file or a raw report email',
  tags: ['reports'],
  ...access('ingest'),
  request: {
    query: z.object({ filename: z.string().optional().meta({ description: 'A hint only (also taken from Content-Disposition); the content decides.' }) }),
    body: {
      required: true,
      description: 'A raw email (MIME) or a bare .xml, .xml.gz, .zip or .json report, of any Content-Type; at most the MAX_MESSAGE_BYTES setting (wrangler.toml).',
      content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
    },
  },
  responses: {
    202: json(
      z.object({
        inbound_id: z.int(),
        status: z.enum(['received', 'duplicate']),
        duplicate_of: z.int().nullable(),
        sha256: z.string(),
        links: z.object({ self: z.string().meta({ description: 'Follow the message here: /api/inbound/{id}.' }) }),
      }),
      'Stored and queued for parsing (or recognised as a duplicate).',
    ),
    ...problems(400, 401, 403, 413),
  },
});

/**
 * POST /api/reports: backfill by HTTP. The body is a raw email (MIME) or a bare report file (XML,
 * gzip, zip, JSON); it takes the same path as mail (R2, inbound row, queue). 202 with the inbound id.
 */
export const uploadRoutes = new ApiRouter().declare(uploadReport, async (c) => {
  const limit = maxMessageBytes(c.env);
  const declared = Number(c.req.header('Content-Length') ?? 'NaN');
  if (declared > limit) return problem(c, 413, 'Payload Too Large', `Reports are limited to ${limit} bytes.`);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > limit) return problem(c, 413, 'Payload Too Large', `Reports are limited to ${limit} bytes.`);
  if (bytes.byteLength === 0) return problem(c, 400, 'Bad Request', 'The request body is empty; send the report file or the raw email as the body.');
  const receipt = await receiveMessage(c.env, {
    bytes,
    source: 'upload',
    filename: c.req.valid('query').filename ?? filenameFrom(c.req.header('Content-Disposition')),
    contentType: c.req.header('Content-Type') ?? null,
  });
  return c.json(
    {
      inbound_id: receipt.inboundId,
      status: receipt.status,
      duplicate_of: receipt.duplicateOf,
      sha256: receipt.sha256,
      links: { self: `/api/inbound/${receipt.inboundId}` },
    },
    202,
  );
});
