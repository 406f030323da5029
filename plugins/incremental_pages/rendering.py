"""Rendering the queued pages on two processes: a forked worker inherits
the templates and every page's context as they are (nothing is pickled but
the results) and renders every other page, while this process renders the
rest."""

import os
import pickle
import traceback

class RenderError(Exception):
    """A page could not be rendered in a worker; ``str()`` has its traceback."""


def _render_share(writer, jobs):
    return [(job[0], writer.render_job(filename, job)) for filename, job in jobs]


def render_in_parallel(writer, jobs, workers):
    """Render ``jobs`` (``[(filename, job)]``): every ``workers``-th in a
    forked process (it inherits the templates and every page's context as
    they are: nothing is pickled but the results), the rest here at the
    same time. Returns ``[(registry key, outcome)]``."""
    if workers < 2 or len(jobs) < writer.settings["PARALLEL_RENDERING_MIN"]:
        return _render_share(writer, jobs)
    reader, writer_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: render its share, report, leave without cleanup
        os.close(reader)
        try:
            payload = pickle.dumps(("ok", _render_share(writer, jobs[1::2])))
        except BaseException:  # noqa: BLE001 - reported to the parent, which fails the build
            payload = pickle.dumps(("error", traceback.format_exc()))
        with os.fdopen(writer_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(writer_end)
    try:
        mine = _render_share(writer, jobs[0::2])
    finally:
        with os.fdopen(reader, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
    status, theirs = pickle.loads(payload) if payload else ("error", "the render worker died")
    if status != "ok":
        raise RenderError(theirs)
    return mine + theirs
