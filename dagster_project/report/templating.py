"""The report's HTML templates (`templates/*.html.j2`, package data), rendered by Jinja2
with autoescaping: every value is escaped unless it is HTML built by the report itself
(a chart's SVG, a rendered table), which is passed as `Markup`.

Block tags sit on their own lines and are trimmed, and a line of the template that goes on
the previous one starts with a `-` tag, so the templates read as HTML while the report
stays one line per document as before (tests read it back as a string).

Exports `render`, `Markup`.
"""

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

__all__ = ["Markup", "render"]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("dagster_project.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt name fails, rather than showing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context) -> Markup:
    """`templates/<template>` rendered with `context`, as HTML safe to embed in another."""
    return Markup(_environment().get_template(template).render(**context))
