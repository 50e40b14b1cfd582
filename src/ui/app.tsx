/**
 * The web UI's router, mounted at `/` by src/api/app.ts with the app's own fetch, which pages use to
 * call the JSON API in-process (src/ui/api-call.ts). To add pages, build a `new Hono<UiEnv>()` in
 * src/ui/pages/ and add a `.route('/', yourRoutes)` line below, ABOVE the catch-all. In a handler:
 *
 *   const me = await currentUser(c);                       // 401 → sign-in page, automatically
 *   const data = await apiJson<T>(c, '/api/metrics');      // 403/404/5xx → friendly error pages
 *   return page(c, { title: 'Metrics', active: 'metrics', me }, <>…</>);
 */
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, type ApiFetch, type UiEnv } from './api-call';
import { adminRoutes } from './pages/admin/index';
import { alertsRoutes } from './pages/alerts';
import { assetByFile } from './assets/index';
import { digestRoutes } from './pages/digest';
import { domainRoutes } from './pages/domain';
import { domainsRoutes } from './pages/domains';
import { errorPage } from './pages/errors';
import { metricsRoutes } from './pages/metrics';
import { mtaStsRoutes } from './pages/mta-sts';
import { retentionRoutes } from './pages/admin/retention';
import { rejectPathRoutes } from './pages/reject-path';
import { reportsRoutes } from './pages/reports';
import { signInPage, signInRoutes } from './pages/sign-in';
import { accountRoutes } from './pages/account';
import { apiDocsRoutes } from './pages/api-docs';
import { sendersRoutes } from './pages/senders';
import { tlsReportsRoutes } from './pages/tls-reports';
import { uploadRoutes } from './pages/upload';

/** Paths the UI leaves to the rest of the app (the API's problem+json 404, the dev sign-in). */
const NOT_UI = /^\/(api|auth)(\/|$)/;

export function uiApp(api: ApiFetch) {
  return (
    new Hono<UiEnv>()
      .use('*', async (c, next) => {
        c.set('api', api);
        await next();
      })
      .get('/assets/:file', (c) => {
        const asset = assetByFile(c.req.param('file'));
        if (!asset) return c.text('Not found', 404);
        return c.body(asset.body, 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=31536000, immutable' });
      })
      .route('/', signInRoutes)
      // Pages: add .route() lines here.
      .route('/', domainsRoutes)
      .route('/', domainRoutes)
      .route('/', reportsRoutes)
      .route('/', metricsRoutes)
      .route('/', alertsRoutes)
      .route('/', digestRoutes)
      .route('/', rejectPathRoutes)
      .route('/', adminRoutes)
      .route('/', mtaStsRoutes)
      .route('/', retentionRoutes)
      .route('/', sendersRoutes)
      .route('/', tlsReportsRoutes)
      .route('/', uploadRoutes)
      .route('/', accountRoutes)
      .route('/', apiDocsRoutes)
      // Last: any other path outside the API is a friendly 404 page, not the API's JSON.
      .use('*', async (c, next) => {
        if (NOT_UI.test(c.req.path)) return next();
        return errorPage(c, 404, c.get('me') ?? null);
      })
      .onError((error, c) => {
        if (error instanceof ApiError) {
          if (error.status === 401) return signInPage(c, error.problem);
          return errorPage(c, (error.status >= 500 ? 500 : error.status) as ContentfulStatusCode, c.get('me') ?? null, error.problem);
        }
        console.error(error);
        return errorPage(c, 500, c.get('me') ?? null);
      })
  );
}
