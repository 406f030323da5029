"""Publish all or nothing: build into a staging folder, swap it in on success.

Pelican writes straight into OUTPUT_PATH, so a build that fails half way
(a broken article header under ``--fatal errors``, a crash in a plugin)
would leave readers a half-written site. Here every run writes into
``<output>.staging``; only when Pelican reaches ``finalized`` is the old
output moved aside and the staging folder renamed into its place. A failed
run leaves the last good output untouched.
"""

import logging
import os
import shutil

from pelican import signals

logger = logging.getLogger(__name__)


def staging_path(output_path):
    return os.path.normpath(output_path) + ".staging"


def swap_in(staging, output):
    """Replace ``output`` by ``staging`` with two renames (the window in
    between is a few microseconds, never a partially written tree)."""
    retired = os.path.normpath(output) + ".old"
    shutil.rmtree(retired, ignore_errors=True)
    if os.path.exists(output):
        os.rename(output, retired)
    os.rename(staging, output)
    shutil.rmtree(retired, ignore_errors=True)


def _redirect(pelican):
    pelican.published_output_path = pelican.output_path
    pelican.output_path = staging_path(pelican.output_path)


def _start_run(pelican):
    # get_generators is sent at the start of every run (also under
    # autoreload), so a failed earlier run's leftovers go away here.
    shutil.rmtree(pelican.output_path, ignore_errors=True)
    os.makedirs(pelican.output_path)


def _publish(pelican):
    swap_in(pelican.output_path, pelican.published_output_path)
    logger.info("Published %s", pelican.published_output_path)


def register():
    signals.initialized.connect(_redirect)
    signals.get_generators.connect(_start_run)
    signals.finalized.connect(_publish)
