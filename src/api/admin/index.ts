import { Hono } from 'hono';
import type { AppEnv } from '../../auth/authenticate';

/** /api/admin: users, groups, memberships, domains, tokens, audit log. */
export const adminRoutes = new Hono<AppEnv>();
