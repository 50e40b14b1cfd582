import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate } from '../auth/authenticate';
import { devSignInRoutes } from '../auth/dev-sign-in';
import { maxMessageBytes } from '../ingest/email-handler';
import { adminRoutes } from './admin/index';
import { alertRoutes } from './alert-routes';
import { aggregateReportRoutes } from './aggregate-report-routes';
import { certificateRoutes } from './certificate-routes';
import { digestRoutes } from './digest-routes';
import { domainListRoutes } from './domain-list-routes';
import { domainStatusRoutes } from './domain-status-routes';
import { inboundRoutes } from './inbound-routes';
import { meRoutes } from './me-routes';
import { metricsRoutes } from './metrics-routes';
import { ApiRouter } from './openapi/api-router';
import { OPENAPI_PATH, serveOpenApi } from './openapi/document';
import { csrfForCookies } from './middleware/csrf-for-cookies';
import { ipAllowlist } from './middleware/ip-allowlist';
import { probeRoutes } from './probe-routes';
import { problem } from './problem';
import { rejectPathRoutes } from './reject-path-routes';
import { reportRoutes } from './report-routes';
import { reverseDnsRoutes } from './reverse-dns-routes';
import { uploadRoutes } from './upload-routes';
import { uiApp } from '../ui/app';
import { hostedMtaSts } from '../mta-sts/hosting';
import { mtaStsRoutes } from './mta-sts-routes';
import { retentionRoutes } from './retention-routes';

/** JSON bodies of the API (admin changes, replay) are small; uploads have their own, larger limit. */
export const JSON_BODY_LIMIT = 1024 * 1024;

/** Gathers the routes declared on the routers mounted below, for the OpenAPI document. */
const root = new ApiRouter();

export const app = root
  .use(
    secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'self'"], frameAncestors: ["'none'"], objectSrc: ["'none'"], baseUri: ["'self'"] },
      strictTransportSecurity: 'max-age=63072000; includeSubDomains',
      xFrameOptions: 'DENY',
      referrerPolicy: 'strict-origin-when-cross-origin',
    }),
  )
  // https://mta-sts.<domain>/.well-known/mta-sts.txt by Host header, for every sender: before the allow-list, UI and API.
  .use(hostedMtaSts())
  .use(ipAllowlist())
  .use('/api/*', async (c, next) => {
    const origin = c.env.CORS_ORIGIN?.trim();
    if (!origin) return next();
    return cors({ origin, credentials: true, allowHeaders: ['Authorization', 'Content-Type'], maxAge: 600 })(c, next);
  })
  .use('/api/*', async (c, next) => {
    const upload = c.req.method === 'POST' && c.req.path === '/api/reports';
    const maxSize = upload ? maxMessageBytes(c.env) : JSON_BODY_LIMIT;
    return bodyLimit({ maxSize, onError: (c) => problem(c, 413, 'Payload Too Large', `The body is limited to ${maxSize} bytes.`) })(c, next);
  })
  // Before authentication: the spec is public (docs/api.md).
  .get(OPENAPI_PATH, serveOpenApi(root))
  .use('/api/*', authenticate())
  .use('/api/*', csrfForCookies())
  .get('/health', (c) => c.json({ ok: true }))
  .route('/auth', devSignInRoutes)
  .route('/api', uploadRoutes)
  .route('/api', reportRoutes)
  .route('/api', inboundRoutes)
  .route('/api', meRoutes)
  .route('/api', domainStatusRoutes)
  .route('/api', domainListRoutes)
  .route('/api', reverseDnsRoutes)
  .route('/api', aggregateReportRoutes)
  .route('/api', rejectPathRoutes)
  .route('/api', digestRoutes)
  .route('/api', metricsRoutes)
  .route('/api', probeRoutes)
  .route('/api', certificateRoutes)
  .route('/api', alertRoutes)
  .route('/api/admin', adminRoutes)
  .route('/api', mtaStsRoutes)
  .route('/api/admin', retentionRoutes)
  // The web UI (src/ui, docs/ui.md): pages call the API in-process through this app's own fetch.
  .route('/', uiApp(async (request, env, ctx): Promise<Response> => app.fetch(request, env, ctx)))
  .notFound((c) => problem(c, 404, 'Not Found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`))
  .onError((error, c) => {
    console.error(error);
    return problem(c, 500, 'Internal Server Error', 'The request failed; the error is logged.');
  });
