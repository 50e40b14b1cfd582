/**
 * Routers whose routes are declared once, with their schemas, for both the router and the OpenAPI
 * document (/api/openapi.json). Invalid input answers the API's 400 problem naming each field.
 */
import { OpenAPIHono, type Hook, type RouteConfig, type RouteHandler } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../../auth/authenticate';
import { invalid, zodErrors } from '../problem';

/** Every declared route's validation failures: a 400 problem, `errors: [{path, message}]`. */
export const rejectInvalid: Hook<unknown, AppEnv, string, Response | undefined> = (result, c) => {
  if (!result.success) return invalid(c, zodErrors(result.error));
  return undefined;
};

/**
 * The JSON body checked against `schema`, whatever the Content-Type says: clients have always been
 * able to omit it (`curl -d`), so the body is not refused for its label. Empty or unparsable bodies
 * are 400s naming `(body)`, like any other invalid field.
 */
export function jsonBody(schema: z.ZodType): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const text = await c.req.text();
    if (text.trim() === '') return invalid(c, [{ path: '(body)', message: 'a JSON object is required' }]);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return invalid(c, [{ path: '(body)', message: 'is not valid JSON' }]);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) return invalid(c, zodErrors(parsed.error));
    c.req.addValidatedData('json', parsed.data as object);
    await next();
  };
}

/**
 * The document's form of a routing path: `/users/{id{[0-9]+}}` (Hono's digits-only constraint,
 * kept so a non-numeric id stays a 404) is `/users/{id}` in OpenAPI.
 */
export function specPath(path: string): string {
  return path.replace(/\{(\w+)\{[^}]*\}\}/g, '{$1}');
}

/** A path id: digits only, by the route's `{id{[0-9]+}}`, so a whole number, documented as one. */
export const pathId = z.string().meta({ type: 'integer', description: 'The id.' });

function jsonSchemaOf(config: RouteConfig): z.ZodType | undefined {
  const media = config.request?.body?.content['application/json'];
  const schema = media && 'schema' in media ? media.schema : undefined;
  return schema instanceof z.ZodType ? schema : undefined;
}

type DeclaredHandler<R extends RouteConfig> = (c: Parameters<RouteHandler<R, AppEnv>>[0]) => Response | Promise<Response>;

export class ApiRouter extends OpenAPIHono<AppEnv> {
  constructor() {
    super({ defaultHook: rejectInvalid });
  }

  /**
   * Registers `route` for routing (its middleware, then the JSON body, then params and query, then
   * the handler) and, unless hidden, for the document. Responses are documented, not enforced by the
   * types (hence the cast): problems come from shared helpers, and tests check real responses
   * against the schemas.
   */
  declare<R extends RouteConfig>(route: R, handler: DeclaredHandler<R>): this {
    const { middleware, hide, ...spec } = route;
    if (!hide) this.openAPIRegistry.registerPath({ ...spec, path: specPath(route.path) });
    const body = jsonSchemaOf(route);
    const { body: _body, ...request } = route.request ?? {};
    const before = [...(Array.isArray(middleware) ? middleware : middleware ? [middleware] : []), ...(body ? [jsonBody(body)] : [])];
    // Hidden: registered above with the document's path. The body is left to jsonBody (no 415 for
    // a missing Content-Type); params and query go through the library's validators and the hook.
    this.openapi({ ...spec, request, middleware: before, hide: true } as RouteConfig, handler as never);
    return this;
  }
}
