import { Hono } from 'hono';
import { inboundRoutes } from './inbound-routes';
import { problem } from './problem';
import { reportRoutes } from './report-routes';
import { uploadRoutes } from './upload-routes';

export const app = new Hono<{ Bindings: Env }>()
  .get('/health', (c) => c.json({ ok: true }))
  .route('/api', uploadRoutes)
  .route('/api', reportRoutes)
  .route('/api', inboundRoutes)
  .notFound((c) => problem(c, 404, 'Not Found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`))
  .onError((error, c) => {
    console.error(error);
    return problem(c, 500, 'Internal Server Error', 'The request failed; the error is logged.');
  });
