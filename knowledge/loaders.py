"""Read files into Markdown-shaped text plus whatever metadata the file itself carries.

Every loader returns headings as `#` lines and list items as `- ` lines so that one chunker
serves all formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml


class LoadError(Exception):
    """A file that cannot be read; the message is the reason shown to the user."""


@dataclass
class RawDocument:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


# Byte-order marks, longest first: a UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)
_BINARY = "binary content, not text"


def _decode_marked(data: bytes) -> str | None:
    """Text of a file that starts with a byte-order mark, else None. Word and Notepad on
    Windows save "Unicode" text as UTF-16 with a mark; read strictly, a file cut short or
    mislabelled is refused, not read as nonsense."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                raise LoadError(
                    f"not valid {name} text (bad byte at offset {exc.start + len(bom)}); "
                    "save it as UTF-8"
                ) from None
    return None


def _decode(data: bytes) -> str:
    if not data.strip():
        raise LoadError("empty file")
    text = _decode_marked(data)
    if text is None:
        if b"\x00" in data:
            raise LoadError(_BINARY)
        text = _decode_unmarked(data)
    if "\x00" in text:
        raise LoadError(_BINARY)
    if not text.strip():
        raise LoadError("empty file")
    return text


def _decode_unmarked(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # Chinese offices still produce GBK files; accept them only when they decode cleanly
    # into mostly CJK/ASCII, so Latin-1 bytes are not silently read as nonsense.
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    if text:
        plausible = sum(
            1
            for c in text
            if c.isascii() or "\u4e00" <= c <= "\u9fff" or c in "，。、；：？！“”（）《》"
        )
        if plausible / len(text) > 0.95:
            return text
    raise LoadError(
        f"not valid UTF-8 text (bad byte at offset {utf8_error.start}); save it as UTF-8"
    )


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML reads `2020-13-45` as a timestamp and fails building it with "month must be in
    1..12", naming neither key nor file; such a value stays text here, and the date keys
    are checked by name when the document is built (knowledge/metadata.py)."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def load_yaml(text: str) -> Any:
    """YAML the way front matter and folder defaults are read: safe, impossible dates kept
    as text."""
    return yaml.load(text, Loader=_FrontMatterLoader)


class _FrontMatterHandler(frontmatter.YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return load_yaml(fm)


def _front_matter(text: str) -> frontmatter.Post:
    handler = frontmatter.detect_format(text, frontmatter.handlers)
    if isinstance(handler, frontmatter.YAMLHandler):
        handler = _FrontMatterHandler()
    return frontmatter.loads(text, handler=handler)


def _require_text(text: str, what: str) -> str:
    if not text.strip():
        raise LoadError(f"no text found in {what}")
    return text


def load_markdown(path: Path) -> RawDocument:
    text = _decode(path.read_bytes())
    try:
        post = _front_matter(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise LoadError(
            f"front matter is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(post.metadata, dict):
        raise LoadError("front matter must be a mapping of key: value lines")
    return RawDocument(_require_text(post.content, "the document body"), dict(post.metadata))


def load_text(path: Path) -> RawDocument:
    return RawDocument(_require_text(_decode(path.read_bytes()), "the file"))


def load_pdf(path: Path) -> RawDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise LoadError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
        title = str(info.get("/Title") or "").strip()
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise LoadError("PDF has no extractable text (scanned images need OCR first)")
    return RawDocument(text, {"title": title} if title else {})


def load_docx(path: Path) -> RawDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise LoadError(f"corrupt or unreadable DOCX: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile and lxml errors have no common base
        raise LoadError(f"corrupt or unreadable DOCX: {exc}") from None
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = re.match(r"Heading (\d)", style)
        if style == "Title":
            lines.append(f"# {text}")
        elif level:
            lines.append(f"{'#' * min(int(level.group(1)) + 1, 6)} {text}")
        elif "List" in style:
            lines.append(f"- {text}")
        else:
            lines.append(text)
        lines.append("")
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            if any(cells):
                lines.append(" | ".join(cells))
        lines.append("")
    metadata: dict[str, Any] = {}
    core = document.core_properties
    if core.title:
        metadata["title"] = core.title
    if core.language:
        metadata["language"] = core.language
    return RawDocument(_require_text("\n".join(lines), "the document"), metadata)


def load_html(path: Path) -> RawDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path.read_bytes()), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "template"]):
        tag.decompose()
    metadata: dict[str, Any] = {}
    if soup.title and soup.title.string:
        metadata["title"] = soup.title.string.strip()
    html = soup.find("html")
    if html is not None and html.get("lang"):
        metadata["language"] = str(html.get("lang"))
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower()
        if name in {"og:url"} and meta.get("content"):
            metadata["source"] = str(meta.get("content"))
    canonical = soup.find("link", rel="canonical")
    if canonical is not None and canonical.get("href"):
        metadata["source"] = str(canonical.get("href"))
    lines: list[str] = []
    body = soup.body or soup
    for element in body.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "pre", "blockquote"]
    ):
        if element.find_parent(["li", "td", "blockquote"]) is not None and element.name in {"p"}:
            continue
        text = " ".join(element.get_text(" ", strip=True).split())
        if not text:
            continue
        if element.name.startswith("h"):
            lines.append(f"{'#' * int(element.name[1])} {text}")
        elif element.name == "li":
            lines.append(f"- {text}")
        else:
            lines.append(text)
        lines.append("")
    if not lines:
        lines = [body.get_text("\n", strip=True)]
    return RawDocument(_require_text("\n".join(lines), "the page"), metadata)


LOADERS: dict[str, Callable[[Path], RawDocument]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def load_raw(path: Path) -> RawDocument:
    """Read one file; raise LoadError with a user-facing reason when it cannot be read."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        return loader(path)
    except OSError as exc:
        raise LoadError(f"cannot open: {exc.strerror or exc}") from None
