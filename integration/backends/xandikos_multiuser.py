"""Xandikos 0.2.8 for several users behind an authenticating reverse proxy (xandikos.sh).

Xandikos has no authentication and, in 0.2.8, one fixed current-user-principal for everybody
(--current-user-principal, default /user/) that --autocreate/--defaults create once at start.
This launcher serves Xandikos's own application (xandikos.web.XandikosApp) with three additions:

- the user comes from the X-Remote-User header, which the proxy (nginx, Basic auth) sets from
  the authenticated user and which clients cannot set themselves (the proxy overwrites it);
  a request without it is answered 401;
- each user's principal is /<user>/, with what Xandikos's --defaults creates (calendars/calendar,
  contacts/addressbook, inbox), created on the user's first request;
- a user may only reach "/" (OPTIONS, and PROPFIND with Depth 0: enough to discover
  current-user-principal) and /<user>/...; everything else is 403;
- the service account named by AGAP_XANDIKOS_SERVICE_USER (if set) may also reach the principal
  of every user who has one (the gateway's FSTO delivers through it); another's principal that
  does not exist is 404 for it, never created.

Run with Debian's python3 (the one that has the xandikos package):
    python3 xandikos_multiuser.py DATA_DIR SOCKET_PATH
It listens on the unix socket SOCKET_PATH, which only the proxy uses.
"""

import logging
import os
import posixpath
import re
import sys
import urllib.parse

from aiohttp import web
from xandikos.web import WELLKNOWN_DAV_PATHS, XandikosApp, XandikosBackend

USER_HEADER = "X-Remote-User"
USER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
SERVICE_USER = os.environ.get("AGAP_XANDIKOS_SERVICE_USER", "")


class MultiUserApp(XandikosApp):
    def __init__(self, backend):
        # XandikosApp expands current-user-principal with "%" against the environ it builds.
        super().__init__(backend, current_user_principal="/%(REMOTE_USER)s/", strict=True)
        self.known = set()

    def ensure_principal(self, user):
        if user in self.known:
            return
        relpath = "/" + user
        if os.path.isdir(self.backend._map_to_file_path(relpath)):
            self.backend._mark_as_principal(relpath)
        else:
            # What "xandikos --defaults" does for its single principal.
            self.backend.create_principal(relpath, create_defaults=True)
            logging.info("created principal %s/ with its default calendar and addressbook", relpath)
        self.known.add(user)

    async def handle(self, request):
        user = request.headers.get(USER_HEADER, "")
        if not USER_PATTERN.match(user):
            return web.Response(status=401, text="No authenticated user.\n")
        path = posixpath.normpath(urllib.parse.unquote(request.path))
        if path in WELLKNOWN_DAV_PATHS:
            # Like Xandikos: RFC 6764 bootstrapping, the client then asks "/" for its principal.
            raise web.HTTPFound("/")
        if path == "/":
            # Enough for discovery; GET / or Depth: 1 would list every user's principal.
            depth = request.headers.get("Depth", "infinity")
            if not (request.method == "OPTIONS" or (request.method == "PROPFIND" and depth == "0")):
                return web.Response(status=403, text="Only OPTIONS and PROPFIND with Depth: 0 on /.\n")
        elif path.split("/")[1] != user:
            owner = path.split("/")[1]
            if not (SERVICE_USER and user == SERVICE_USER and USER_PATTERN.match(owner)):
                return web.Response(status=403, text="Not your principal.\n")
            if not os.path.isdir(self.backend._map_to_file_path("/" + owner)):
                return web.Response(status=404, text="No such principal.\n")
            self.ensure_principal(owner)
        self.ensure_principal(user)
        environ = {"SCRIPT_NAME": "/", "REMOTE_USER": user}
        response = await self._handle_request(request, environ)
        return response.for_aiohttp()


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: xandikos_multiuser.py DATA_DIR SOCKET_PATH")
    data_dir, socket_path = argv[1], argv[2]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.makedirs(data_dir, exist_ok=True)
    app = MultiUserApp(XandikosBackend(data_dir))
    server = web.Application(client_max_size=100 * 1024 * 1024)
    server.router.add_get("/health", lambda request: web.Response(text="ok"))
    server.router.add_route("*", "/{path_info:.*}", app.handle)
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    web.run_app(server, path=socket_path, print=None)


if __name__ == "__main__":
    main(sys.argv)
