"""Error pages. They say nothing of the address asked for: a 404 for a draft record and a 404
for an address that never existed must be the same page, byte for byte, or the difference tells
a visitor that something unpublished is there."""

from django.http import HttpRequest, HttpResponseNotFound
from django.template import loader


def page_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponseNotFound:
    # ``error_page`` makes the header's language switcher return to the home page rather than
    # to the address asked for (which may name an unpublished record).
    body = loader.render_to_string("404.html", {"error_page": True}, request)
    return HttpResponseNotFound(body)
