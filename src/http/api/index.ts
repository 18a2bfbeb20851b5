/** The HTTP API: mount `createApiRouter(deps)` at `/api/v1`. */
export { createApiRouter, type ApiRouterDeps } from './router.js';
export { createApiToken, revokeApiToken, authenticateApiToken, hashApiToken, API_SCOPES, type ApiScope, type ApiPrincipal } from './tokens.js';
export { buildOpenApiDocument } from './openapi.js';
