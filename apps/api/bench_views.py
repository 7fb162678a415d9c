"""A constant JSON view, the baseline of the key-lookup benchmark (benchmarks/api_bench.py).
Mounted only when settings.GOVDATA["API_BENCH_VIEWS"] is true."""

from __future__ import annotations

from django.http import HttpResponse

BODY = b'{"id_number":"440106199001011234","name":"\\u5f20**","district":"\\u5929\\u6cb3\\u533a"}'


def constant_json(request):
    return HttpResponse(BODY, content_type="application/json")
