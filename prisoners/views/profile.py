"""The person profile: one stable URL per person (``/persons/<id>/``).

A merged person's old URL redirects (301) to the end of its ``merged_into`` chain. Anything the
viewer may not open (no such id, unpublished for their tier, name withheld outside staff) is the
same 404, so that the page never reveals that a hidden record exists.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views import View

from events.timeline import merged_target, person_profile
from prisoners.visibility import viewer_tier

MAX_ID = 2**63 - 1


class PersonDetailView(View):
    template_name = "prisoners/person_detail.html"

    def get(self, request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if pk > MAX_ID:  # beyond the id column: no such person, not a database error
            raise Http404
        tier = viewer_tier(request.user)
        profile = person_profile(pk=pk, viewer=tier, language=get_language())
        if profile is None:
            target = merged_target(pk=pk, viewer=tier)
            if target is None:
                raise Http404
            return HttpResponsePermanentRedirect(reverse("prisoners:detail", args=[target]))
        return render(
            request,
            self.template_name,
            {
                "profile": profile,
                "canonical_url": request.build_absolute_uri(profile.url),
            },
        )


person_detail = PersonDetailView.as_view()
