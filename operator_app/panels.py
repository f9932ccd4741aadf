"""Panels: domain packages add their summaries to pages of other packages (the base dashboard, a company's file)
without those importing them. A panel is a template plus a function computing its context, shown to some roles
in one place."""
from dataclasses import dataclass
from typing import Callable

PANELS = []


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable  # (base) -> dict
    roles: tuple
    order: int = 100
    place: str = "dashboard"


def register_panel(template, context, roles, order=100, place="dashboard"):
    """Show ``template`` in ``place`` to ``roles``, rendered with ``context(base, **what the place passes)``.

    Places: "dashboard" (the base's home page) and "company" (a company's file; passes ``company``).
    """
    if not any(panel.template == template for panel in PANELS):
        PANELS.append(Panel(template, context, tuple(roles), order, place))
        PANELS.sort(key=lambda panel: panel.order)


def panels_for(base, role, place="dashboard", **subject):
    """The panels of ``place`` that ``role`` sees, each with its computed context."""
    return [(panel.template, panel.context(base, **subject)) for panel in PANELS
            if panel.place == place and role in panel.roles]
