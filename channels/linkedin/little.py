"""LinkedIn's "little" text format: the commentary of a post, written and read back.

In little text `\\ | { } @ [ ] ( ) < > # * _ ~` are reserved: they open or close elements
(mentions, hashtag templates). Unescaped where no element starts, LinkedIn does not refuse
the post: it cuts the commentary there and publishes the rest (docs/linkedin.md). So every
reserved character of the approved text is escaped with a backslash, except in two forms
the format defines and pressbot writes on purpose:

- a hashtag `#Word` (letters and digits, at least one letter, not glued to a word before
  it) becomes the documented template `{hashtag|\\#|Word}`; a `#` anywhere else (`C#`,
  `#1`, `#EU_funds`) is text;
- a mention of an organisation `@[Name](urn:li:organization:123)` (a Name without
  reserved characters) is kept as the mention element; any other `@` is text.

`to_plain` reads a commentary back into the approved text (the lookup compares that), and
`sent_length` is how the core counts LinkedIn's 3,000: the commentary as sent, escapes and
templates included, in UTF-16 units — the high side of what LinkedIn may count.

Pure functions, no I/O: `bot.fit` imports this at count time.
"""

from __future__ import annotations

import regex

RESERVED = frozenset("\\|{}@[]()<>#*_~")
MENTION = regex.compile(r"@\[([^\\|{}@\[\]()<>#*_~\n]+)\]\((urn:li:organization:\d+)\)")
HASHTAG = regex.compile(r"(?<![\p{L}\p{N}\p{M}_#/&\\])#([\p{L}\p{N}]*\p{L}[\p{L}\p{N}]*)"
                        r"(?![\p{L}\p{N}\p{M}_])")
_TEMPLATE = regex.compile(r"\{hashtag\|\\#\|([^{}|\\]+)\}")


def to_little(text: str) -> str:
    """The approved text as LinkedIn's commentary: what it shows is what was approved."""
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "@" and (mention := MENTION.match(text, position)):
            out.append(mention.group(0))
            position = mention.end()
        elif char == "#" and (tag := HASHTAG.match(text, position)):
            out.append(f"{{hashtag|\\#|{tag.group(1)}}}")
            position = tag.end()
        else:
            out.append("\\" + char if char in RESERVED else char)
            position += 1
    return "".join(out)


def to_plain(commentary: str) -> str:
    """A commentary read back as the text pressbot would have sent: templates as `#Word`,
    escapes undone, mentions as written. Inverse of `to_little` on what it produces."""
    out: list[str] = []
    position = 0
    while position < len(commentary):
        char = commentary[position]
        if char == "\\" and position + 1 < len(commentary):
            out.append(commentary[position + 1])
            position += 2
        elif char == "{" and (tag := _TEMPLATE.match(commentary, position)):
            out.append("#" + tag.group(1))
            position = tag.end()
        else:
            out.append(char)
            position += 1
    return "".join(out)


def display(text: str) -> str:
    """What a reader sees of the approved text: a mention shows its name only."""
    return str(MENTION.sub(r"\1", text))


def sent_length(text: str) -> int:
    """The commentary's length as LinkedIn receives it, in UTF-16 code units."""
    little = to_little(text.replace("\r\n", "\n"))
    return len(little.encode("utf-16-le")) // 2
