"""A few lines of SVG, built as text: the charts' common writer."""

from __future__ import annotations

from markupsafe import Markup, escape


def _pct(value: float) -> str:
    return f"{min(100.0, max(0.0, value)):.3f}%"


_ATTR_NAMES = {"text_anchor": "text-anchor", "class_": "class"}


def _attr(value) -> str:
    """An attribute value: numbers as short decimals, text escaped."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return str(value)
    return str(escape(value))


class _Svg:
    """A few SVG elements, escaped, with optional tooltips."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, tag: str, attrs: dict, text: str | None = None, title: str | None = None) -> None:
        attributes = "".join(
            f' {_ATTR_NAMES.get(name, name)}="{_attr(value)}"' for name, value in attrs.items() if value is not None
        )
        inner = ""
        if title:
            inner += f"<title>{escape(title)}</title>"
        if text is not None:
            inner += str(escape(text))
        self.parts.append(f"<{tag}{attributes}>{inner}</{tag}>" if inner else f"<{tag}{attributes}/>")

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def render(self, height: int, label: str, css: str) -> Markup:
        return Markup(
            f'<svg class="{css}" width="100%" height="{height}" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">' + "".join(self.parts) + "</svg>"
        )
