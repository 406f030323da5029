"""A cold build converts Markdown in two processes and publishes exactly
what one process publishes (plugins/parallel_reading)."""

import random

from conftest import build, new_content, write_article
from test_incremental import article_body, article_header, tree


def test_two_processes_give_the_site_one_gives(tmp_path, monkeypatch):
    content = new_content(tmp_path / "content")
    rng = random.Random(5)
    for number in range(60):
        write_article(content / "articles", f"bai-{number:03d}", article_header(rng, number), article_body(rng))
    monkeypatch.setenv("PORTAL_PROGRESS", "1")
    sites = {}
    for workers in (1, 2):
        sites[workers] = build(content, tmp_path / f"w{workers}", extra=[
            "-e", f"READ_WORKERS={workers}", "PARALLEL_READING_MIN=10", "SEARCH_INDEX=false"])
    assert "60 articles converted in 2 processes" in sites[2].log
    assert "converted in" not in sites[1].log
    assert tree(sites[1].output) == tree(sites[2].output)
    # the second build of the same content has nothing left to convert
    again = build(content, tmp_path / "w2", extra=["-e", "PARALLEL_READING_MIN=10", "SEARCH_INDEX=false"])
    assert "converted in" not in again.log
