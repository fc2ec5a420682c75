/**
 * ASGI apps mounted on a BentoML 1.4 service, as `Service.schema()` lists them under `paths` (`mounted: true`):
 * `@bentoml.asgi_app(app, path=…)` (and its deprecated alias `mount_asgi_app`) mounts `app` at `path` (default
 * `/`, joined under the service's `path_prefix`); `schema()` walks `app.routes` of a Starlette (or FastAPI) app and
 * lists every route's `path` joined under the mount path, recursing into a `Mount` whose app is a Starlette app.
 * Observed with BentoML 1.4.40 + FastAPI 0.165 (test/fixtures/sdk-schema/mounted.py).
 */

/** The class decorators that mount an ASGI app (qualified names as the reader canonicalizes them). */
export const MOUNT_DECORATORS: ReadonlySet<string> = new Set(['bentoml.asgi_app', 'bentoml.mount_asgi_app'])

/** Qualified names of the app classes whose routes `schema()` lists. */
export const FASTAPI_CLASSES: ReadonlySet<string> = new Set(['fastapi.FastAPI', 'fastapi.applications.FastAPI'])
export const STARLETTE_CLASSES: ReadonlySet<string> = new Set(['starlette.applications.Starlette'])

/**
 * The routes `FastAPI()` adds itself (`FastAPI.setup`): keyword → default path. `openapi_url=None` drops them all;
 * `docs_url=None` drops the docs and the OAuth2 redirect; `redoc_url=None` drops ReDoc.
 */
export const FASTAPI_DOC_ROUTES = {
  openapi_url: '/openapi.json',
  docs_url: '/docs',
  swagger_ui_oauth2_redirect_url: '/docs/oauth2-redirect',
  redoc_url: '/redoc',
} as const

/** `@app.<name>("/path")` decorators of FastAPI/Starlette apps that add a route at their first argument. */
export const ROUTE_DECORATORS: ReadonlySet<string> = new Set(['get', 'post', 'put', 'delete', 'patch', 'options', 'head', 'trace', 'api_route', 'route', 'websocket', 'websocket_route'])

/** `app.<name>("/path", endpoint)` calls that add a route. */
export const ROUTE_ADDERS: ReadonlySet<string> = new Set(['add_api_route', 'add_route', 'add_api_websocket_route', 'add_websocket_route'])

/** `starlette.routing` route classes whose first argument (or `path=`) is the route's path. */
export const STARLETTE_ROUTES: ReadonlySet<string> = new Set(['starlette.routing.Route', 'starlette.routing.WebSocketRoute', 'starlette.routing.Mount', 'fastapi.routing.APIRoute'])

/** BentoML's `join_paths` (bentoml/_internal/utils/uri.py). */
export function joinPaths(...paths: string[]): string {
  let result = ''
  for (const p of paths) {
    if (!p) continue
    result = `${result.replace(/\/+$/, '')}/${p.replace(/^\/+/, '')}`
  }
  return result || '/'
}
