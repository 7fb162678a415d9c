"""The admin home page's to-do list (待办事项): what waits for the signed-in person, from every
app that has something (requests to answer before their deadline, objections, failed syncs,
grants about to end, alerts). Each app registers a provider in its AppConfig.ready(); this
module knows none of them, and each provider costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class WorkItem:
    label: str
    count: int
    url: str
    urgent: int = 0  # of `count`, those past or at their deadline
    urgent_label: str = ""


Provider = Callable[[HttpRequest], list[WorkItem]]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def worklist_for(request: HttpRequest) -> list[WorkItem]:
    """The items with something waiting, in the order the apps registered them."""
    items: list[WorkItem] = []
    for provider in _PROVIDERS:
        items.extend(item for item in provider(request) if item.count)
    return items
