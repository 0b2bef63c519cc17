"""``{% local_time when %}``: a moment shown in the visitor's own time zone.

The server knows only UTC (its TIME_ZONE); the browser knows where its reader is. So the page carries
``<time datetime="2026-12-07T03:56:12Z">2026-12-07 03:56 UTC</time>`` and site.js rewrites its text with
``Intl.DateTimeFormat`` in the page's language and the browser's time zone (``2026年12月7日 11:56``);
without scripts the UTC time stays, labelled as such.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def local_time(when: dt.datetime | None) -> str:
    if when is None:
        return ""
    utc = when.astimezone(dt.UTC)
    return format_html('<time class="local" datetime="{}">{} UTC</time>', utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       utc.strftime("%Y-%m-%d %H:%M"))
