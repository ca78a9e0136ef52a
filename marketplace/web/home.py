"""The home page: what the data bank holds and where to go next (a person's first view)."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.responses import HTMLResponse

from marketplace.projections.catalogue_view import CatalogueQuery

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>六安市数据银行 · Lu'an Data Bank</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2733}}
h1{{margin-bottom:.2rem}} .sub{{color:#5a6b7b;margin-top:0}}
table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #dde3ea;padding:.4rem;text-align:left;font-size:.95rem}}
code{{background:#f1f4f7;padding:.1rem .3rem;border-radius:3px}} nav a{{margin-right:1rem}}
</style></head><body>
<h1>六安市数据银行</h1><p class="sub">Lu'an Data Bank — {count} published data assets from {departments} departments</p>
<nav>{graphiql}<a href="/.well-known/jwks.json">JWKS</a><a href="/healthz">Health</a></nav>
<h2>目录 Catalogue</h2>
<table><thead><tr><th>信息资源代码</th><th>名称</th><th>提供部门</th><th>开放类型</th><th>行数</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Query it: <code>POST /graphql</code> with <code>{{ catalogue(search: "企业") {{ nodes {{ resourceCode name }} }} }}</code></p>
</body></html>"""


def home_page(bank: Any, *, graphiql: bool) -> HTMLResponse:
    page = bank.catalogue_view.search(CatalogueQuery(first=50))
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            escape(e["resource_code"]), escape(e["metadata"]["name"]), escape(e["department_name"]),
            escape(e["metadata"]["opening"]["type"]),
            e["versions"][e["current_version"] - 1]["row_count"] if e.get("current_version") else "")
        for e in page.entries)
    link = '<a href="/graphql">GraphiQL</a>' if graphiql else ""
    return HTMLResponse(_PAGE.format(count=page.total, departments=len(bank.catalogue_view.departments()),
                                     graphiql=link, rows=rows))
