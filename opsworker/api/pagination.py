"""Page-number pagination: `?page=N&limit=M` (limit 1..200, default 50) with `next`/`previous` links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from opsworker.api.schemas import PageQuery


def paginate(request: HttpRequest, queryset, query: PageQuery) -> dict[str, Any]:
    """One page of `queryset` in the list envelope; rows are serialized by the operation's schema."""
    limit, page = query.limit, query.page
    count = len(queryset) if isinstance(queryset, list) else queryset.count()
    offset = (page - 1) * limit
    rows = list(queryset[offset : offset + limit]) if offset < count else []

    def link(number: int) -> str:
        params = request.GET.copy()
        params["page"] = str(number)
        params["limit"] = str(limit)
        return request.build_absolute_uri(request.path) + "?" + urlencode(sorted(params.items()))

    return {
        "count": count,
        "page": page,
        "limit": limit,
        "next": link(page + 1) if offset + limit < count else None,
        "previous": link(min(page - 1, max(1, -(-count // limit)))) if page > 1 else None,
        "results": rows,
    }
