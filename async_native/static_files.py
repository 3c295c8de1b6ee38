"""ServeStatic's middleware, answering a static file it cannot find with Django's 404.

With debug on, ServeStatic raises MissingFileError for a /static/ path that no finder knows
(servestatic/middleware.py), so a typo in a page's link is a 500 on this stack and a 404 on the
others, where WhiteNoise passes the request on and no URL pattern matches it.
Raised as Http404 here, it is the same 404 everywhere, and its debug page keeps ServeStatic's list of
the folders it searched.
"""

from django.http import Http404, HttpRequest, HttpResponseBase
from servestatic import middleware
from servestatic.responders import MissingFileError


class ServeStaticMiddleware(middleware.ServeStaticMiddleware):
    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return await super().__call__(request)
        except MissingFileError as error:
            raise Http404(str(error)) from None
