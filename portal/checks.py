"""The signal ``make check`` sends so every plugin's checks run.

``make check`` cannot import the other plugins (a plugin never imports
another); it starts Pelican with the site's PLUGINS as the build does, then
sends :data:`content_check_requested` with the settings. A plugin with
checks connects to it in ``register()``; each receiver returns a list of
:class:`portal.problems.Problem`. A plugin not in PLUGINS is not checked,
exactly as it is not built.
"""

from blinker import signal

content_check_requested = signal("portal.content_check_requested")


def requested_problems(settings):
    """Every problem the connected checks return, in one list."""
    return [problem for _, found in content_check_requested.send(settings) for problem in found or ()]
