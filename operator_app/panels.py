"""Dashboard panels: domain packages add their summaries to the base dashboard without the platform
importing them. A panel is a template plus a function computing its context, shown to some roles."""
from dataclasses import dataclass
from typing import Callable

PANELS = []


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable  # (base) -> dict
    roles: tuple
    order: int = 100


def register_panel(template, context, roles, order=100):
    """Show ``template`` on the base dashboard to ``roles``, rendered with ``context(base)``."""
    if not any(panel.template == template for panel in PANELS):
        PANELS.append(Panel(template, context, tuple(roles), order))
        PANELS.sort(key=lambda panel: panel.order)


def panels_for(base, role):
    """The panels ``role`` sees, each with its computed context."""
    return [(panel.template, panel.context(base)) for panel in PANELS if role in panel.roles]
