"""Reading one Markdown file of the staff, for ``make check`` and the build.

A file that is not UTF-8 (saved as Windows-1258 by an old editor), that
holds control characters (pasted from a PDF or a spreadsheet), or whose
markup would make Python-Markdown take minutes is refused here with the
line of the first bad byte, before anything parses it: decoding with
``errors="replace"`` only turned such files into misleading messages
later ("unknown category 'V?n h�a'").
"""

import os
import re

from .problems import Problem


class SourceError(ValueError):
    """A Markdown file that cannot be read; ``problem`` says where and why."""

    def __init__(self, problem):
        super().__init__(str(problem))
        self.problem = problem


# C0 controls but tab, newline and carriage return; DEL; C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Python-Markdown is quadratic or worse on a few shapes of unfinished
# markup (a run of "<a " never closed, "[" nested hundreds deep, "](" with
# no ")"): 60 KB of it took over a minute. Real articles have a handful of
# such slips at most, so past these counts the file is refused before
# Markdown sees it. Each scan below is one pass over the text.
MAX_UNCLOSED_TAGS = 20
MAX_BRACKET_DEPTH = 10
MAX_UNCLOSED_LINKS = 20
# With Pygments' language guess each code block cost 5-8 ms (60 KB of "~~~"
# lines took 38 s); pelicanconf turns the guess off and a block is now
# ~0.4 ms, linear. The bound stays for settings that guess; it is high
# because a paragraph indented by four spaces (pasted from Word) is a code
# block too, and a long resolution may have hundreds.
MAX_CODE_BLOCKS = 2000
# Python-Markdown's abbreviation extension runs one pattern per definition
# over the whole text (N definitions and N uses: 6,000 took 33 s), and
# character references are resolved paragraph by paragraph with a cost
# that grows with the square of their count (80,000 in one paragraph:
# 25 s). Articles define a few abbreviations and write letters, not codes.
MAX_ABBREVIATIONS = 100
MAX_REFERENCES_PER_PARAGRAPH = 2000
_ABBREVIATION = re.compile(r"^[ ]{0,3}\*\[[^\]\n]+\]:", re.M)
_PARAGRAPH_OR_REFERENCE = re.compile(r"&#[xX]?[0-9a-fA-F]{1,8};|&[a-zA-Z][a-zA-Z0-9]{1,31};|\n[ \t]*\n")
_FENCE_LINE = re.compile(r"^[ ]{0,3}(?:```|~~~)", re.M)
_INDENTED_BLOCK = re.compile(r"\n[ \t]*\n(?: {4}|\t)[ \t]*\S")
_TAG_TOKENS = re.compile(r"<[A-Za-z/!?]|>")
_LINK_TOKENS = re.compile(r"\]\(|\)|\n[ \t]*\n")
_BRACKETS = re.compile(r"[\[\]]")


def _line(text, offset):
    return text.count("\n", 0, offset) + 1


def _unclosed_tags(text):
    """Offsets of ``<tag`` openers never closed by ``>`` before the next one."""
    found, opened = [], None
    for match in _TAG_TOKENS.finditer(text):
        if match.group() == ">":
            opened = None
        else:
            if opened is not None:
                found.append(opened)
            opened = match.start()
    return found + ([opened] if opened is not None else [])


def _deep_bracket(text):
    """Offset of the first ``[`` nested deeper than allowed, or None."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        if match.group() == "[":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                return match.start()
        elif depth:
            depth -= 1
    return None


def _unclosed_links(text):
    """Offsets of ``](`` whose ``)`` never comes in the same paragraph."""
    found, opened = [], None
    for match in _LINK_TOKENS.finditer(text):
        token = match.group()
        if token == ")":
            opened = None
        elif token == "](":
            if opened is not None:
                found.append(opened)
            opened = match.start()
        elif opened is not None:  # a blank line ends the paragraph
            found.append(opened)
            opened = None
    return found + ([opened] if opened is not None else [])


def _crowded_paragraph(text):
    """Offset of the first paragraph with too many character references."""
    count, start = 0, None
    for match in _PARAGRAPH_OR_REFERENCE.finditer(text):
        if match.group().startswith("&"):
            count, start = count + 1, match.start() if count == 0 else start
            if count > MAX_REFERENCES_PER_PARAGRAPH:
                return start
        else:
            count = 0
    return None


def _hazards(text):
    """``(offset, Vietnamese, English)`` for each shape found, cheapest first."""
    tags = _unclosed_tags(text) if "<" in text else []
    if len(tags) > MAX_UNCLOSED_TAGS:
        yield tags[0], (f"có {len(tags)} thẻ HTML mở bằng “<” mà không đóng bằng “>” (quá {MAX_UNCLOSED_TAGS}), "
                        "thường do dán nhầm; hãy sửa hoặc xóa chúng"), f"too many unclosed HTML tags: {len(tags)}"
    deep = _deep_bracket(text) if "[" in text else None
    if deep is not None:
        yield deep, f"dấu “[” lồng nhau quá {MAX_BRACKET_DEPTH} lớp; hãy sửa hoặc xóa chúng", \
            f"brackets nested deeper than {MAX_BRACKET_DEPTH}"
    links = _unclosed_links(text) if "](" in text else []
    if len(links) > MAX_UNCLOSED_LINKS:
        yield links[0], (f"có {len(links)} liên kết “](” không có dấu “)” đóng (quá {MAX_UNCLOSED_LINKS}); "
                         "hãy sửa hoặc xóa chúng"), f"too many unclosed links: {len(links)}"
    abbreviations = [m.start() for m in _ABBREVIATION.finditer(text)] if "*[" in text else []
    if len(abbreviations) > MAX_ABBREVIATIONS:
        yield abbreviations[0], (f"có {len(abbreviations)} định nghĩa viết tắt “*[…]:” (quá {MAX_ABBREVIATIONS}); "
                                 "hãy giữ những chữ viết tắt cần giải thích"), \
            f"too many abbreviation definitions: {len(abbreviations)}"
    crowded = _crowded_paragraph(text) if "&" in text else None
    if crowded is not None:
        yield crowded, (f"một đoạn có hơn {MAX_REFERENCES_PER_PARAGRAPH} mã ký tự dạng “&#…;”; hãy thay chúng "
                        "bằng chữ gõ trực tiếp"), "too many character references in one paragraph"
    fences = len(_FENCE_LINE.findall(text)) if "```" in text or "~~~" in text else 0
    blocks = (fences + 1) // 2 + len(_INDENTED_BLOCK.findall(text))
    if blocks > MAX_CODE_BLOCKS:
        fence, indented = _FENCE_LINE.search(text), _INDENTED_BLOCK.search(text)
        first = min(([fence.start()] if fence else []) + ([indented.end() - 1] if indented else []))
        yield first, (f"có {blocks} khối mã (dòng ``` hoặc ~~~, hay đoạn thụt vào 4 dấu cách) — quá "
                      f"{MAX_CODE_BLOCKS}; hãy xóa các dấu cách ở đầu đoạn và các dòng ``` thừa"), \
            f"too many code blocks: {blocks}"


def markup_hazard(text):
    """``(offset, message)`` of the first shape Markdown cannot render in
    linear time, or None."""
    for offset, vietnamese, english in _hazards(text):
        return offset, f"{vietnamese} — tệp chưa được xử lý ({english}; file refused before rendering)"
    return None


def decode_markdown(path, data):
    """The text of a Markdown file's bytes; raises :class:`SourceError`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SourceError(Problem(path, data.count(b"\n", 0, error.start) + 1, (
            f"tệp không phải mã UTF-8 (byte 0x{data[error.start]:02x} không đọc được); hãy mở tệp và "
            "lưu lại với bảng mã UTF-8 (file is not UTF-8: save it as UTF-8)"))) from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark some editors write; not content
    control = CONTROL.search(text)
    if control:
        raise SourceError(Problem(path, _line(text, control.start()), (
            f"tệp chứa ký tự điều khiển U+{ord(control.group()):04X}, thường do dán từ PDF hay bảng tính; "
            f"hãy xóa ký tự đó (control character U+{ord(control.group()):04X} in file)")))
    hazard = markup_hazard(text)
    if hazard:
        raise SourceError(Problem(path, _line(text, hazard[0]), hazard[1]))
    return text


def read_markdown(source, path=None):
    """Read ``source``; ``path`` is how messages name it (default: relative
    to the working folder). Raises :class:`SourceError`."""
    path = path or os.path.relpath(source)
    try:
        with open(source, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise SourceError(Problem(path, 1, (
            f"không đọc được tệp: {error.strerror} (cannot read file)"))) from None
    return decode_markdown(path, data)
