"""``content/banners.yml``: reading, validating and scheduling banners.

Plain functions, no Pelican. YAML is composed into nodes (not just loaded)
so every problem can name its line: the person who manages banners edits
one file and must be told exactly where it is wrong.
"""

import datetime
import difflib
import os
import re
from dataclasses import dataclass

import yaml
from PIL import Image

from content_check.links import url_scheme
from content_check.rules import Problem
from content_check.site import resolve_media_path
from vi_locale.formatting import to_vn

KEYS = ("id", "title", "image", "link", "slot", "order", "start", "end", "new_tab")
REQUIRED = ("id", "title", "image", "link", "slot")
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class Banner:
    id: str
    title: str
    image: str          # path under content/
    link: str
    slot: str
    order: int = 0
    start: datetime.datetime = None   # first moment shown (Vietnam time)
    end: datetime.datetime = None     # first moment no longer shown
    new_tab: bool = False
    line: int = 0

    @property
    def external(self):
        return self.link.startswith(("http://", "https://"))

    def status(self, now):
        """``"active"``, ``"upcoming"`` or ``"ended"`` at ``now``."""
        if self.end is not None and now >= self.end:
            return "ended"
        if self.start is not None and now < self.start:
            return "upcoming"
        return "active"


def parse_moment(value, is_end):
    """A YAML date or ``YYYY-MM-DD HH:MM`` in Vietnam time. A bare ``end``
    date means the banner shows through that whole day."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time())
        if is_end:
            moment += datetime.timedelta(days=1)
    elif isinstance(value, str):
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                moment = datetime.datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
            if fmt == "%Y-%m-%d" and is_end:
                moment += datetime.timedelta(days=1)
            break
        else:
            return None
    else:
        return None
    return to_vn(moment)


def is_safe_link(link):
    """An absolute http(s) URL or a path of this site (``/...``)."""
    if not isinstance(link, str) or not link.strip() or link != link.strip():
        return False
    scheme = url_scheme(link)
    if scheme is not None:
        return scheme in ("http", "https") and re.match(r"^https?://[^/\s]+", link) is not None
    # "//host" and "/\\host" are other sites to a browser, not paths of this one
    return re.match(r"^/(?![/\\])", link) is not None and "\\" not in link


def _scalar(node):
    return yaml.safe_load(yaml.serialize(node)) if node is not None else None


def load_banners(path, content_root, slots):
    """``(banners, problems)`` for the banners file at ``path``.

    ``slots`` maps slot name to its settings (``{"width": 300, ...}``).
    A missing file is no problem: the site simply has no banners.
    """
    shown = os.path.relpath(path)
    if not os.path.exists(path):
        return [], []
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(error, "problem", None) or str(error)
        return [], [Problem(shown, line, f"YAML không hợp lệ: {reason} — kiểm tra thụt lề và dấu “:” (invalid YAML)")]
    if root is None:
        return [], []
    if not isinstance(root, yaml.SequenceNode):
        return [], [Problem(shown, root.start_mark.line + 1,
                            "tệp phải là một danh sách banner, mỗi banner bắt đầu bằng “- id: ...” (must be a list)")]
    banners, problems, seen = [], [], {}

    def problem(line, message):
        problems.append(Problem(shown, line, message))

    for position, node in enumerate(root.value):
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problem(line, "mỗi banner phải có dạng “khóa: giá trị” (each banner must be a mapping)")
            continue
        values, lines = {}, {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            key_line = key_node.start_mark.line + 1
            if key not in KEYS:
                guess = difflib.get_close_matches(key, KEYS, n=1)
                hint = f" — có phải “{guess[0]}”?" if guess else ""
                problem(key_line, f"khóa không được hỗ trợ “{key}”{hint} (unknown key)")
                continue
            values[key] = _scalar(value_node)
            lines[key] = key_line
        missing = [k for k in REQUIRED if values.get(k) in (None, "")]
        for key in missing:
            problem(line, f"banner thiếu khóa “{key}” (missing key {key})")
        if missing:
            continue
        ok = True
        banner_id = str(values["id"])
        if not ID.match(banner_id):
            problem(lines["id"], f"id “{banner_id}” chỉ gồm chữ thường không dấu, số và “-” (invalid id)")
            ok = False
        elif banner_id in seen:
            problem(lines["id"], f"id “{banner_id}” bị trùng với banner ở dòng {seen[banner_id]} (duplicate id)")
            ok = False
        else:
            seen[banner_id] = lines["id"]
        slot = str(values["slot"])
        if slot not in slots:
            problem(lines["slot"], f"vị trí “{slot}” không có; dùng một trong: {', '.join(slots)} (unknown slot)")
            ok = False
        link = values["link"]
        if not is_safe_link(link):
            problem(lines["link"], (
                f"liên kết “{str(link)[:60]}” không hợp lệ: chỉ dùng địa chỉ http:// hoặc https:// "
                "hoặc đường dẫn trong trang bắt đầu bằng “/” (link must be http(s) or a site path)"
            ))
            ok = False
        image = str(values["image"])
        relative = resolve_media_path(content_root, path, image)
        if relative is None:
            problem(lines["image"], f"ảnh “{image}” phải nằm trong thư mục content/ (image must be under content/)")
            ok = False
        else:
            image = relative
            try:
                with Image.open(os.path.join(content_root, relative)) as picture:
                    width = picture.size[0]
                    picture.verify()
            except FileNotFoundError:
                problem(lines["image"], f"không tìm thấy ảnh “content/{relative}” (image not found)")
                ok = False
            except Exception as error:  # Pillow raises many kinds for broken files
                problem(lines["image"], f"không đọc được ảnh “content/{relative}”: {type(error).__name__} (unreadable image)")
                ok = False
            else:
                if slot in slots and width < slots[slot]["width"]:
                    problem(lines["image"], (
                        f"ảnh “{image}” rộng {width} px, hẹp hơn vị trí “{slot}” ({slots[slot]['width']} px); "
                        "hãy dùng ảnh rộng hơn (image narrower than its slot)"
                    ))
                    ok = False
        order = values.get("order", position)
        if not isinstance(order, int) or isinstance(order, bool):
            problem(lines.get("order", line), "order phải là số nguyên, ví dụ 10 (order must be an integer)")
            ok = False
        moments = {}
        for key in ("start", "end"):
            if values.get(key) is None:
                moments[key] = None
                continue
            moments[key] = parse_moment(values[key], key == "end")
            if moments[key] is None:
                problem(lines[key], f"{key}: “{values[key]}” không phải ngày hợp lệ; viết 2020-09-02 (date must be YYYY-MM-DD)")
                ok = False
        if moments.get("start") and moments.get("end") and moments["end"] <= moments["start"]:
            problem(lines["end"], "end phải sau start (end is before start)")
            ok = False
        new_tab = values.get("new_tab", False)
        if not isinstance(new_tab, bool):
            problem(lines["new_tab"], "new_tab phải là true hoặc false (new_tab must be true or false)")
            ok = False
        if ok:
            banners.append(Banner(
                id=banner_id, title=str(values["title"]), image=image, link=link, slot=slot,
                order=order, start=moments["start"], end=moments["end"], new_tab=new_tab, line=line,
            ))
    return banners, sorted(problems)


def slot_banners(banners, slots, now):
    """``{slot: [banner, ...]}`` in ``order``, without ended banners; upcoming
    ones are kept (rendered hidden, shown by the widget script on time)."""
    result = {name: [] for name in slots}
    for banner in sorted(banners, key=lambda b: (b.order, b.id)):
        if banner.status(now) != "ended":
            result[banner.slot].append(banner)
    return result


STATUS_VI = {"active": "đang hiển thị", "upcoming": "chờ hiển thị", "ended": "hết hạn"}


def status_text(banner, now):
    status = banner.status(now)
    if status == "upcoming":
        return f"{STATUS_VI[status]} (từ {banner.start:%d/%m/%Y %H:%M})"
    return STATUS_VI[status]


def redirect_path(banner, prefix="chuyen-huong"):
    """The site page an outbound banner link goes through, so the access
    log records the click (``chuyen-huong/<id>.html``)."""
    return f"{prefix}/{banner.id}.html"
