"""ServeStatic's middleware, which the tuned stack loads in place of WhiteNoise's, with a missing
file answered as WhiteNoise answers it on the other stacks: 404.

With DEBUG on, ServeStatic raises MissingFileError for any /static/ path it has no file for, to
list the folders it searched; Django turns that into a 500 and logs its traceback, for a request
any client can make. Here it becomes Http404 with the same text, so debug mode still shows where
ServeStatic looked, on Django's 404 page.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponseBase
from servestatic.middleware import ServeStaticMiddleware as ServeStatic
from servestatic.responders import MissingFileError


class ServeStaticMiddleware(ServeStatic):
    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return await super().__call__(request)
        except MissingFileError as error:
            raise Http404(str(error)) from None
