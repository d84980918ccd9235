"""The counsellors' web page, served by the API app at ``/web/``.

A static page (HTML, CSS, plain JS; no build step) that calls the JSON API.
The counsellor's key is entered once and kept in an HttpOnly cookie;
``session_scope`` (applied by ``api.edge.EdgeMiddleware``) turns that cookie into
``X-API-Key`` for the page's own ``/v1`` calls (only with the page's marker
header and a same-origin ``Origin``), so the key never reaches JavaScript, the
URL or the logs. ``install_web(app)`` adds the router.
"""

from api.web.router import install_web, router

__all__ = ["install_web", "router"]
