"""Text that came from a data file (a feed, banners.yml), judged before it
is shown on a page or printed on a terminal.

Three kinds of character are told apart:

- control characters (Unicode ``Cc``: C0, DEL, C1) and lone surrogates
  have no business in a title or a region name; a file holding them is refused;
- invisible and format characters (bidi overrides and isolates, zero-width
  marks, soft hyphen, tag characters...) draw nothing yet change what the
  reader sees: U+202E turns "1.234" into "432.1". ``INVISIBLE_RANGES`` is
  the one list of them; ``theme/static/js/live-widgets.js`` carries the same
  list as a regular expression (a test compares the two over every code
  point);
- everything else is text.

``shown()`` is for terminals and problem lines: it makes control and
invisible characters visible as escapes, so a title holding ``ESC [2J``
cannot rewrite the operator's terminal.
"""

import re

# Every Unicode 14 format (Cf), line/paragraph separator (Zl, Zp) and the
# usual invisible fillers and selectors. Inclusive ranges.
INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
    (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

INVISIBLE = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in INVISIBLE_RANGES) + "]")
# lone surrogates too: JSON's "\\ud800" decodes to one, which no file can encode
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# what a text file may hold besides text: tab and line ends
CONTROL_IN_FILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def codepoints(characters):
    """``U+202E, U+200B``: distinct characters, in order, for a message."""
    return ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(characters))


def strip_invisible(text):
    """``(text without invisible characters, the characters removed)``."""
    removed = INVISIBLE.findall(text)
    return (INVISIBLE.sub("", text), removed) if removed else (text, [])


def first_control(text, pattern=CONTROL):
    """``(line, character)`` of the first control character, or ``None``."""
    match = pattern.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1, match.group()


def shown(value):
    """``value`` as text safe to print: control and invisible characters
    become ``\\x1b`` / ``\\u202e``, everything else (Vietnamese) stays."""
    text = str(value)

    def escape(match):
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

    return INVISIBLE.sub(escape, CONTROL.sub(escape, text))
