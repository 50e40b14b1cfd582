import { ApiRouter } from '../openapi/api-router';
import { auditRoutes } from './audit';
import { domainRoutes } from './domains';
import { groupDomainRoutes } from './group-domains';
import { groupNotificationRoutes } from './group-notifications';
import { groupRoutes } from './groups';
import { membershipRoutes } from './memberships';
import { tokenRoutes } from './tokens';
import { userRoutes } from './users';

/**
 * /api/admin: users, groups, memberships, domains, tokens, audit log. Authentication has already run
 * (app.ts); every route here also requires the `admin` scope. docs/admin-api.md describes them.
 */
export const adminRoutes = new ApiRouter()
  .route('/', userRoutes)
  .route('/', groupRoutes)
  .route('/', membershipRoutes)
  .route('/', domainRoutes)
  .route('/', groupDomainRoutes)
  .route('/', groupNotificationRoutes)
  .route('/', tokenRoutes)
  .route('/', auditRoutes);
