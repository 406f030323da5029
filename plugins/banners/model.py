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

from portal.problems import Problem
from portal.content_paths import MediaError, resolve_media
from portal.feeds import FeedError, read_text
from portal.safe_text import CONTROL, INVISIBLE, codepoints, shown
from portal.vietnamese import to_vn

from .links import LinkError, parse_link

KEYS = ("id", "title", "image", "link", "slot", "order", "start", "end", "new_tab")
REQUIRED = ("id", "title", "image", "link", "slot")
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# 100 banners take about 15 KB; anything near this is not a banner list
MAX_FILE_BYTES = 256 * 1024
# a list (depth 1) of banners (depth 2) whose values are single values
MAX_DEPTH = 2


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
    """A YAML date or ``YYYY-MM-DD HH:MM`` in Vietnam time, or None. A bare
    ``end`` date means the banner shows through that whole day."""
    try:
        return _moment(value, is_end)
    except OverflowError:  # 9999-12-31: the day after, or the shift to Vietnam time, has no year
        return None


def _moment(value, is_end):
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


def _scalar(node):
    """The value of a plain scalar (only after structure_problems(): no
    tag, no alias); one YAML cannot construct, such as the date
    ``2020-02-30``, stays the text written, for the rules to judge."""
    if node is None:
        return None
    try:
        return yaml.safe_load(yaml.serialize(node))
    except (ValueError, OverflowError, yaml.YAMLError):
        return node.value


def _yaml_error(error):
    mark = getattr(error, "problem_mark", None)
    reason = getattr(error, "problem", None) or str(error)
    return (mark.line + 1 if mark else 1,
            f"YAML không hợp lệ: {reason} — kiểm tra thụt lề và dấu “:” (invalid YAML)")


def structure_problems(text):
    """``(line, message)`` for what banners.yml never needs and YAML would
    make costly or surprising: anchors and aliases (a few hundred bytes of
    nested aliases expand to gigabytes), explicit tags (``!!python/...``)
    and values nested inside values. Read from the event stream, before
    any node is composed or any alias expanded."""
    found, depth = set(), 0  # one line with nine aliases is one problem line
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if len(found) >= 50:  # a file of nothing but aliases: fifty lines say enough
                break
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                found.add((line, f"không dùng bí danh YAML “*{event.anchor}”; hãy viết đầy đủ giá trị "
                                 "(YAML aliases are not allowed)"))
            elif getattr(event, "anchor", None):
                found.add((line, f"không dùng neo YAML “&{event.anchor}” (YAML anchors are not allowed)"))
            if getattr(event, "tag", None):
                found.add((line, f"không dùng thẻ YAML “{event.tag}”; hãy xóa nó (YAML tags are not allowed)"))
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    found.add((line, "mỗi khóa chỉ có một giá trị, không lồng danh sách “[...]” hay khóa con; "
                                     "chữ bắt đầu bằng “[” hoặc “{” thì đặt trong ngoặc kép "
                                     "(nested lists or mappings are not allowed; quote text starting with [ or {)"))
                    # stop here: PyYAML's scanner costs grow with the depth
                    # of flow nesting ("[[[[..." is quadratic)
                    break
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError as error:
        found.add(_yaml_error(error))
    return sorted(found)


def read_banners_file(path, content_root):
    """``(text, problem)``: the file, or why it cannot be read as text
    (outside content/, too large, not UTF-8, control characters)."""
    try:
        return read_text(path, root=content_root, limit=MAX_FILE_BYTES), None
    except FeedError as error:
        return None, (error.line or 1, error.message)


def _text_problem(value, what):
    """Why ``value`` (a title) cannot be shown as is, or None."""
    bad = CONTROL.findall(value) + INVISIBLE.findall(value)
    if bad:
        return (f"{what} có ký tự điều khiển hoặc vô hình {codepoints(bad)} (có thể đảo chữ hoặc làm rối màn hình); "
                f"hãy gõ lại (control or invisible character in {what})")
    return None


def _mapping_values(node, problem):
    """``(values, lines)`` of one banner's keys; unknown and repeated keys
    are problems (YAML itself would keep the last one silently)."""
    values, lines = {}, {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        key_line = key_node.start_mark.line + 1
        if key in lines:
            problem(key_line, f"khóa “{key}” bị lặp lại, đã có ở dòng {lines[key]} (duplicate key)")
            continue
        if key not in KEYS:
            guess = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" — có phải “{guess[0]}”?" if guess else ""
            problem(key_line, f"khóa không được hỗ trợ “{key}”{hint} (unknown key)")
            continue
        values[key] = _scalar(value_node)
        lines[key] = key_line
    return values, lines


def _image_problem(content_root, relative, slot, slots):
    """Why the banner image ``relative`` (under content/) cannot be used, or None."""
    full = os.path.join(content_root, relative)
    if not os.path.isfile(full):  # a folder or a pipe would block or mislead Pillow
        return f"không tìm thấy ảnh “content/{relative}” (image not found)"
    try:
        with Image.open(full) as picture:
            width = picture.size[0]
            picture.verify()
    except Exception as error:  # Pillow raises many kinds for broken files
        return f"không đọc được ảnh “content/{relative}”: {type(error).__name__} (unreadable image)"
    if slot in slots and width < slots[slot]["width"]:
        return (f"ảnh “{relative}” rộng {width} px, hẹp hơn vị trí “{slot}” ({slots[slot]['width']} px); "
                "hãy dùng ảnh rộng hơn (image narrower than its slot)")
    return None


def load_banners(path, content_root, slots):
    """``(banners, problems)`` for the banners file at ``path``.

    ``slots`` maps slot name to its settings (``{"width": 300, ...}``).
    A missing file is no problem: the site simply has no banners. Every
    message is printable as is: what the file brought is shown escaped.
    """
    where = shown(os.path.relpath(path))
    problems = []

    def problem(line, message):
        problems.append(Problem(where, line, shown(message)))

    if not os.path.lexists(path):
        return [], []
    text, unreadable = read_banners_file(path, content_root)
    if unreadable:
        problem(*unreadable)
        return [], problems
    for found in structure_problems(text):
        problem(*found)
    if problems:
        return [], problems
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:  # e.g. a second document
        problem(*_yaml_error(error))
        return [], problems
    if root is None:
        return [], []
    if not isinstance(root, yaml.SequenceNode):
        problem(root.start_mark.line + 1, "tệp phải là một danh sách banner, mỗi banner bắt đầu bằng “- id: ...” "
                                          "(must be a list)")
        return [], problems
    banners, seen = [], {}
    for position, node in enumerate(root.value):
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problem(line, "mỗi banner phải có dạng “khóa: giá trị” (each banner must be a mapping)")
            continue
        before = len(problems)
        values, lines = _mapping_values(node, problem)
        missing = [k for k in REQUIRED if values.get(k) in (None, "")]
        for key in missing:
            problem(line, f"banner thiếu khóa “{key}” (missing key {key})")
        if missing:
            continue
        banner_id = str(values["id"])
        if not ID.match(banner_id):
            problem(lines["id"], f"id “{banner_id}” chỉ gồm chữ thường không dấu, số và “-” (invalid id)")
        elif banner_id in seen:
            problem(lines["id"], f"id “{banner_id}” bị trùng với banner ở dòng {seen[banner_id]} (duplicate id)")
        else:
            seen[banner_id] = lines["id"]
        title = str(values["title"]).strip(" \t\r\n")  # what a YAML block scalar leaves; anything else is judged
        title_problem = _text_problem(title, "tiêu đề")
        if title_problem:
            problem(lines["title"], title_problem)
        slot = str(values["slot"])
        if slot not in slots:
            problem(lines["slot"], f"vị trí “{slot}” không có; dùng một trong: {', '.join(slots)} (unknown slot)")
        link = values["link"]
        try:
            link = parse_link(link)
        except LinkError as error:
            problem(lines["link"], (
                f"liên kết “{str(link)[:60]}” không hợp lệ, {error.reason}: chỉ dùng địa chỉ http:// hoặc https:// "
                "hoặc đường dẫn trong trang bắt đầu bằng “/” (link must be http(s) or a site path)"
            ))
        image = str(values["image"])
        try:
            # the real path, symlinks followed, must stay inside content/
            image = resolve_media(content_root, path, image)
        except MediaError as error:
            problem(lines["image"], f"ảnh “{image}”: {error.reason}")
        else:
            image_problem = _image_problem(content_root, image, slot, slots)
            if image_problem:
                problem(lines["image"], image_problem)
        order = values.get("order", position)
        if not isinstance(order, int) or isinstance(order, bool):
            problem(lines.get("order", line), "order phải là số nguyên, ví dụ 10 (order must be an integer)")
        moments = {}
        for key in ("start", "end"):
            if values.get(key) is None:
                moments[key] = None
                continue
            moments[key] = parse_moment(values[key], key == "end")
            if moments[key] is None:
                problem(lines[key], f"{key}: “{values[key]}” không phải ngày hợp lệ; viết 2020-09-02 "
                                    "(date must be YYYY-MM-DD)")
        if moments.get("start") and moments.get("end") and moments["end"] <= moments["start"]:
            problem(lines["end"], "end phải sau start (end is before start)")
        new_tab = values.get("new_tab", False)
        if not isinstance(new_tab, bool):
            problem(lines["new_tab"], "new_tab phải là true hoặc false (new_tab must be true or false)")
        if len(problems) == before:
            banners.append(Banner(
                id=banner_id, title=title, image=image, link=link, slot=slot,
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


def slot_places(slots):
    """``{slot: "sidebar" | "header"}`` (a slot without ``place`` is in the sidebar)."""
    return {name: slot.get("place", "sidebar") for name, slot in slots.items()}


def layout_problems(slots, sidebar, widgets):
    """What is wrong with ``BANNER_SLOTS`` places and ``SIDEBAR_BLOCKS`` (the
    sidebar from top to bottom: the theme's ``widgets`` and sidebar slots),
    as problems of pelicanconf.py. ``widgets`` None: the theme has no
    sidebar widgets folder, so names are not judged against it."""
    places = slot_places(slots)
    found = [f"BANNER_SLOTS: vị trí “{name}” có place “{place}”; dùng “sidebar” hoặc “header” "
             f"(place must be sidebar or header)" for name, place in places.items() if place not in ("sidebar", "header")]
    for index, name in enumerate(sidebar):
        if name in sidebar[:index]:
            found.append(f"SIDEBAR_BLOCKS: “{name}” có hai lần (listed twice)")
        elif places.get(name, "sidebar") != "sidebar":
            found.append(f"SIDEBAR_BLOCKS: vị trí “{name}” có place “{places[name]}”, "
                         f"không đặt được trong cột bên (not a sidebar slot)")
        elif widgets is not None and name not in places and name not in widgets:
            found.append(f"SIDEBAR_BLOCKS: “{name}” không phải vị trí nào trong BANNER_SLOTS "
                         f"({', '.join(slots)}) hay khối nào của giao diện ({', '.join(sorted(widgets))}) "
                         f"(unknown sidebar block)")
    return [Problem("pelicanconf.py", 0, message) for message in found]
