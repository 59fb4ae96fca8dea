#!/usr/bin/env python3
"""Turns a Wikipedia XML dump (such as enwik9) into text8-style text for wembed.

Keeps the article text inside <text> elements, drops markup (templates, tables, references, tags,
link targets, URLs), spells out digits, lowercases, folds everything that is not a-z to a space,
and writes one paragraph per line (wembed treats a line as a sentence; text8 itself is one line).

usage: python3 corpora/clean_wiki.py enwik9 > enwik9.txt
"""
import html
import re
import sys
import unicodedata

DIGITS = "zero one two three four five six seven eight nine".split()
DROP = [
    re.compile(r"\{\{[^{}]*\}\}"),            # templates (applied repeatedly for nesting)
    re.compile(r"\{\|.*?\|\}", re.S),         # tables
    re.compile(r"<ref[^>]*/>|<ref.*?</ref>", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"<[^>]+>"),                   # any remaining tag
    re.compile(r"\[\[(?:image|file|category):[^\]]*\]\]", re.I),
    re.compile(r"https?://\S+"),
]
LINK = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]")   # [[target|shown]] -> shown
NOT_LETTER = re.compile(r"[^a-z]+")


def clean_paragraph(p):
    for _ in range(3):
        p = DROP[0].sub(" ", p)
    for rx in DROP[1:]:
        p = rx.sub(" ", p)
    p = LINK.sub(r"\1", p)
    p = unicodedata.normalize("NFKD", p)
    p = "".join(c for c in p if not unicodedata.combining(c)).lower()
    p = "".join(f" {DIGITS[int(c)]} " if c.isdigit() and c.isascii() else c for c in p)
    return " ".join(NOT_LETTER.sub(" ", p).split())


def main(path):
    inside, buf = False, []
    out = sys.stdout
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not inside:
                at = line.find("<text")
                if at < 0:
                    continue
                inside = True
                line = line[line.find(">", at) + 1:]
            end = line.find("</text>")
            if end >= 0:
                buf.append(line[:end])
                inside = False
                text = html.unescape("".join(buf))
                buf = []
                if text.lstrip().lower().startswith("#redirect"):
                    continue
                for para in text.split("\n\n"):
                    words = clean_paragraph(para)
                    if words.count(" ") >= 2:
                        out.write(words + "\n")
            else:
                buf.append(line)


if __name__ == "__main__":
    main(sys.argv[1])
