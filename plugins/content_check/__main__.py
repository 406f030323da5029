"""Staff tools: ``make check`` and ``make article``.

    python -m content_check check [--settings pelicanconf.py]
    python -m content_check new --title "..." --category "..." [--settings ...]

Run from the project folder (the Makefile does), with the project installed
in the virtual environment (``pip install -e .``, the Makefile does that too).
"""

import argparse
import datetime
import os
import sys

from pelican import Pelican
from pelican.settings import read_settings

from portal.checks import requested_problems
from portal.problems import report
from portal.settings import fill_defaults
from portal.vietnamese import TIMEZONE, nfc

from .site import read_documents, slug_of, url_of

TEMPLATE = """Title: {title}
Date: {date}
Modified: {date}
Category: {category}
Tags:
Author:
Summary: Viết đoạn dẫn (sapo) của bài ở đây, một đoạn ngắn.
Image:
ImageCaption:
Gallery:
Attachments:
Featured: false
Status: draft

Viết nội dung bài ở đây. Xem hướng dẫn trong content/README.md.
"""


def site_settings(settings):
    """``settings`` as the build has them: Pelican started with the site's
    PLUGINS, so each plugin has filled its defaults and added what it adds
    at ``initialized`` (the figures extension), and each plugin's checks
    are connected to :data:`portal.checks.content_check_requested`."""
    Pelican(settings)
    return settings


def command_check(settings, out=sys.stdout):
    """Every plugin's checks (content, banners, feeds, static folders), one report."""
    return report(requested_problems(site_settings(settings)), tool="make check", stream=out)


def new_article(settings, title, category, now=None):
    """Create a draft; returns its path. Raises ValueError with a message
    for the staff when the category is unknown or the slug is taken."""
    title = nfc(" ".join(title.split()))
    category = nfc(category.strip())
    categories = [nfc(c) for c in settings["MENU_CATEGORIES"]]
    if not title:
        raise ValueError("Thiếu tiêu đề: make article TITLE=\"...\" CATEGORY=\"...\" (missing TITLE)")
    if category not in categories:
        raise ValueError(
            f"Chuyên mục {category!r} không có; dùng một trong: {', '.join(categories)} (unknown category)"
        )
    slug = slug_of(title, settings)
    if not slug:
        raise ValueError("Tiêu đề không tạo được đường dẫn; hãy dùng chữ hoặc số (title gives an empty slug)")
    # the folder names the article (its address, portal.addresses): the new
    # draft's preview address and its address once published must both be free
    wanted = {settings["DRAFT_URL"].format(slug=slug),
              settings["ARTICLE_URL"].format(slug=slug, category=slug_of(category, settings))}
    for document in read_documents(settings):
        taken = {document.url, url_of(document, settings, status="published")} & wanted
        if taken:
            raise ValueError(
                f"Đã có bài cùng đường dẫn {sorted(taken)[0]!r}: {document.path} — hãy đổi tiêu đề "
                "(slug already exists)"
            )
    folder = os.path.join(settings["PATH"], settings["ARTICLE_PATHS"][0], slug_of(category, settings), slug)
    if os.path.exists(folder):
        raise ValueError(f"Thư mục {folder} đã tồn tại (folder already exists)")
    now = (now or datetime.datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    os.makedirs(folder)
    path = os.path.join(folder, "index.md")
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(TEMPLATE.format(title=title, category=category, date=now.strftime("%Y-%m-%d %H:%M")))
    return os.path.relpath(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="content_check", description=__doc__.split("\n")[0])
    parser.add_argument("--settings", default="pelicanconf.py")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate all content without building")
    new = sub.add_parser("new", help="create a new draft article")
    new.add_argument("--title", required=True)
    new.add_argument("--category", required=True)
    args = parser.parse_args(argv)
    settings = fill_defaults(read_settings(args.settings))
    if args.command == "check":
        return command_check(settings)
    try:
        print(new_article(settings, args.title, args.category))
    except ValueError as error:
        print(f"make article: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
