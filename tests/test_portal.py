"""The shared library's pure functions, tested directly (no Pelican run)."""

import io
import logging
import os

import pytest

from portal import outputs
from portal.atomic import remove_leftovers, write_atomic
from portal.problems import Problem, report
from portal.settings import DEFAULTS, fill_defaults

PROBLEMS = [Problem("b.md", 3, "lỗi sau"), Problem("a.md", 7, "chú ý", "warning"), Problem("a.md", 2, "lỗi trước")]


def test_a_tool_prints_problems_sorted_then_one_summary_and_fails():
    out = io.StringIO()
    assert report(PROBLEMS, tool="make check", stream=out) == 1
    assert out.getvalue().splitlines() == [
        "a.md:2: lỗi trước", "a.md:7: cảnh báo: chú ý", "b.md:3: lỗi sau",
        "make check: 2 lỗi, 1 cảnh báo (2 errors, 1 warnings)"]


def test_a_tool_with_nothing_found_says_so_and_succeeds():
    out = io.StringIO()
    assert report([], tool="make check", stream=out) == 0
    assert out.getvalue() == "make check: nội dung hợp lệ (content OK)\n"


def test_in_a_build_the_summary_is_logged_at_the_worst_severity(caplog):
    # subjects of this test only: Pelican's logger drops a warning it has
    # already printed, and other tests in this process report photos
    out = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="portal"):
        report(PROBLEMS[1:2], subject=("Ảnh thử", "test photos"), stream=out)
        report(PROBLEMS, subject=("Nội dung thử", "test content"), stream=out)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "Ảnh thử có 1 cảnh báo, xem các dòng trên (1 warnings in test photos)"),
        ("ERROR", "Nội dung thử có 2 lỗi và 1 cảnh báo, xem các dòng trên (2 errors, 1 warnings in test content)")]


def test_a_fatal_summary_ends_the_run_without_a_traceback(monkeypatch):
    def fatal(message, *args):  # what Pelican's logger does under --fatal
        raise RuntimeError("Warning or error encountered")

    monkeypatch.setattr(logging.getLogger("portal"), "error", fatal)
    with pytest.raises(SystemExit) as stopped:
        report(PROBLEMS, stream=io.StringIO())
    assert stopped.value.code == 1


def test_a_problem_is_one_printable_line_and_line_zero_names_the_file():
    assert str(Problem("a\nb.json", 0, "x\x1b[2J", "warning")) == "a\\x0ab.json: cảnh báo: x\\x1b[2J"


def test_defaults_fill_only_what_is_missing_and_share_nothing():
    mine = fill_defaults({"PHOTOS_URL": "hinh"})
    other = fill_defaults({})
    assert mine["PHOTOS_URL"] == "hinh" and other["PHOTOS_URL"] == DEFAULTS["PHOTOS_URL"]
    other["SIDEBAR_BLOCKS"].append("x")
    assert "x" not in DEFAULTS["SIDEBAR_BLOCKS"] and "x" not in mine["SIDEBAR_BLOCKS"]


def test_the_registry_knows_what_is_on_disk_and_what_nobody_recorded(tmp_path):
    registry = outputs.OutputRegistry(tmp_path / "site")
    registry.write("tin/a.html", "<p>a</p>", "page", "content/a.md")
    (tmp_path / "site" / "lau.html").write_text("x")
    registry.record("da-xoa.html", "page")
    assert registry.unrecorded() == ["lau.html"] and registry.missing() == ["da-xoa.html"]
    assert registry.pages() == ["da-xoa.html", "tin/a.html"]
    with pytest.raises(ValueError):
        registry.record("../ngoai.html", "page")
    with pytest.raises(ValueError):
        registry.record("tin/a.html", "trang")  # not a kind
    outputs.save(registry, tmp_path / "cache" / "outputs.json")
    assert outputs.load(tmp_path / "cache" / "outputs.json")["tin/a.html"] == {"kind": "page", "source": "content/a.md"}


def test_registry_keys_are_nfc_whatever_the_disk_holds(tmp_path):
    registry = outputs.OutputRegistry(tmp_path)
    registry.record("tai-lieu/Ke\u0302\u0301 hoa\u0323ch.pdf", "attachment")
    assert list(registry.files) == ["tai-lieu/Kế hoạch.pdf"]


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "feed.json"
    write_atomic(target, b"old")
    with pytest.raises(TypeError):
        write_atomic(target, object())
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["feed.json"]
    leftover = tmp_path / ".feed.json.123-abc.tmp"  # a killed write's
    leftover.write_bytes(b"half")
    remove_leftovers(target)
    assert os.listdir(tmp_path) == ["feed.json"]
