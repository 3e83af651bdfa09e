from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loaders import LoadError, load_raw
from knowledge.metadata import build_document
from tests.files import write_docx, write_pdf


def _doc(path: Path, root: Path | None = None, **kwargs):  # type: ignore[no-untyped-def]
    return build_document(load_raw(path), path=path, root=root or path.parent, **kwargs)


def test_markdown_front_matter_is_kept_and_normalised(tmp_path: Path) -> None:
    file = tmp_path / "policies" / "p.md"
    file.parent.mkdir()
    file.write_text(
        "---\n"
        "title: 人才公寓\n"
        "kind: policy\n"
        "language: zh-Hant\n"
        "url: https://example.org/apartments\n"
        "sectors: AI, 生物医药\n"
        "node: Tel Aviv\n"
        "published: 2025-05-01\n"
        "expires: 待定\n"
        "issuer: 人才办\n"
        "budget: {total: 500, unit: 万元}\n"
        "---\n# 人才公寓\n\n符合条件的人才可申请人才公寓，租金按市场价的50%收取。\n",
        encoding="utf-8",
    )
    document = _doc(file, root=tmp_path)
    meta = document.metadata
    assert document.doc_id == "policies/p.md"
    assert meta["path"] == "policies/p.md"
    assert meta["source"] == "https://example.org/apartments"
    assert meta["language"] == "zh" and meta["language_tag"] == "zh-Hant"
    assert meta["sectors"] == ["ai", "生物医药"]
    assert meta["node"] == "tel-aviv"
    assert meta["published"] == "2025-05-01" and meta["published_ymd"] == 20250501
    assert meta["expires"] == "待定"
    assert any("expires" in w and "not a date" in w for w in document.warnings)
    assert meta["issuer"] == "人才办"
    assert '"total": 500' in meta["budget"]


def test_id_in_front_matter_overrides_the_path(tmp_path: Path) -> None:
    file = tmp_path / "a.md"
    file.write_text("---\nid: policy-42\n---\nSome text about subsidies.\n")
    assert _doc(file).doc_id == "policy-42"


def test_missing_metadata_gets_defaults_and_detected_language(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("Die Knotenstelle München meldet zwei neue Projekte im Bereich Wasserstoff.")
    meta = _doc(file).metadata
    assert meta["kind"] == "other"
    assert meta["visibility"] == "internal"
    assert meta["language"] == "de"
    assert meta["title"] == "notes"
    assert meta["source"] == str(file.resolve())


def test_visibility_precedence(tmp_path: Path) -> None:
    own = tmp_path / "own.md"
    own.write_text("---\nvisibility: partner\n---\ntext\n")
    bare = tmp_path / "bare.md"
    bare.write_text("text without front matter\n")
    folder = {"visibility": "public"}
    assert (
        _doc(own, visibility="internal", folder_defaults=folder).metadata["visibility"] == "partner"
    )
    assert (
        _doc(bare, visibility="restricted", folder_defaults=folder).metadata["visibility"]
        == "restricted"
    )
    assert _doc(bare, folder_defaults=folder).metadata["visibility"] == "public"
    assert _doc(bare).metadata["visibility"] == "internal"


def test_unknown_visibility_fails_the_file_instead_of_opening_it_up(tmp_path: Path) -> None:
    file = tmp_path / "x.md"
    file.write_text("---\nvisibility: secret\n---\ntext\n")
    with pytest.raises(LoadError, match="visibility 'secret' is not one of"):
        _doc(file)


def test_personal_data_only_kept_on_restricted_documents(tmp_path: Path) -> None:
    internal = tmp_path / "lead.md"
    internal.write_text(
        "---\nvisibility: internal\ncontact: {name: Ann, email: ann@example.com}\n---\nA lead.\n"
    )
    restricted = tmp_path / "lead2.md"
    restricted.write_text("---\nvisibility: restricted\ncontact: {name: Ann}\n---\nA lead.\n")
    assert "contact" not in _doc(internal).metadata
    assert "Ann" in _doc(restricted).metadata["contact"]


def test_pdf_text_and_title(tmp_path: Path) -> None:
    pdf = write_pdf(
        tmp_path / "brochure.pdf",
        ["Zhengzhou High-tech Zone.", "Lab rent is free for two years."],
        title="Park brochure",
    )
    document = _doc(pdf)
    assert "Lab rent is free for two years." in document.text
    assert document.metadata["title"] == "Park brochure"
    assert document.metadata["language"] == "en"


def test_docx_headings_and_lists(tmp_path: Path) -> None:
    file = write_docx(
        tmp_path / "guide.docx",
        "申报指南",
        "申报材料",
        ["请按以下清单准备材料。"],
        ["营业执照", "审计报告"],
    )
    document = _doc(file)
    assert "## 申报材料" in document.text
    assert "- 营业执照" in document.text
    assert document.metadata["title"] == "申报指南"
    assert document.metadata["language"] == "zh"


def test_html_keeps_structure_and_drops_scripts(tmp_path: Path) -> None:
    file = tmp_path / "page.html"
    file.write_text(
        '<html lang="fr"><head><title>Aides</title><link rel="canonical" href="https://example.org/aides">'
        "<script>var tracking = 1;</script></head><body><h1>Aides à l'innovation</h1>"
        "<p>La zone offre une subvention de loyer.</p><ul><li>Laboratoires</li></ul></body></html>",
        encoding="utf-8",
    )
    document = _doc(file)
    assert "# Aides à l'innovation" in document.text
    assert "- Laboratoires" in document.text
    assert "tracking" not in document.text
    assert document.metadata["language"] == "fr"
    assert document.metadata["source"] == "https://example.org/aides"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "PDF"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        ("empty.md", b"   \n\n", "empty"),
        (
            "latin1.txt",
            "Préfecture de la région: aides à l'export, données clés.".encode("latin-1"),
            "UTF-8",
        ),
        ("broken.docx", b"PK\x03\x04 not a zip", "DOCX"),
        ("bad-yaml.md", b"---\ntitle: [unclosed\n---\nbody\n", "front matter"),
    ],
)
def test_unreadable_files_raise_a_clear_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    file = tmp_path / name
    file.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_raw(file)


def test_gbk_encoded_chinese_text_is_accepted(tmp_path: Path) -> None:
    file = tmp_path / "old.txt"
    file.write_bytes("郑州高新区人才公寓申请须知。".encode("gbk"))
    assert "人才公寓" in load_raw(file).text


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
    ],
)
def test_text_with_a_byte_order_mark_is_read_in_its_encoding(
    tmp_path: Path, encoding: str, bom: bytes
) -> None:
    file = tmp_path / "windows.md"
    text = "---\ntitle: 慕尼黑节点周报\nkind: node_report\n---\nWasserstoff: 两个新项目。\n"
    file.write_bytes(bom + text.encode(encoding))
    raw = load_raw(file)
    assert raw.metadata == {"title": "慕尼黑节点周报", "kind": "node_report"}
    assert raw.text == "Wasserstoff: 两个新项目。"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe", "empty file"),  # a mark and nothing after it
        (b"\xfe\xff\x00 \x00\n", "empty file"),
        (b"\xff\xfeA\x00B", "not valid UTF-16 text"),  # cut mid-character
        (b"\xff\xfe\x00\xd8A\x00", "not valid UTF-16 text"),  # a lone surrogate
        (b"plain text, then \x00\x01\x02 garbage", "binary content"),
        ("\ufeffa\x00b".encode("utf-16-le"), "binary content"),
    ],
)
def test_unusable_marked_or_binary_text_is_refused(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    file = tmp_path / "x.txt"
    file.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_raw(file)


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("expires: 2020-13-45", "2020-13-45"),
        ("published: 2025-02-30", "2025-02-30"),
        ("effective_from: 31.13.2025", "31.13.2025"),
        ("expires: '2025/14/01'", "2025/14/01"),
        ("expires: 2025年13月1日", "2025年13月1日"),
    ],
)
def test_a_mistyped_date_fails_the_file_naming_field_and_value(
    tmp_path: Path, line: str, value: str
) -> None:
    file = tmp_path / "p.md"
    file.write_text(f"---\ntitle: Bonus\n{line}\n---\nListing bonus.\n", encoding="utf-8")
    key = line.split(":")[0]
    with pytest.raises(LoadError) as raised:
        _doc(file)
    assert str(raised.value) == f"{key}: {value} is not a date (YYYY-MM-DD)"


def test_an_impossible_date_in_another_key_is_kept_as_text(tmp_path: Path) -> None:
    file = tmp_path / "p.md"
    file.write_text("---\nreviewed: 2020-13-45\n---\nText.\n", encoding="utf-8")
    assert _doc(file).metadata["reviewed"] == "2020-13-45"


def test_impossible_dates_in_folder_defaults_are_a_reason_not_a_crash(tmp_path: Path) -> None:
    from knowledge.ingest import _FolderDefaults

    (tmp_path / "_defaults.yaml").write_text("kind: policy\nexpires: 2020-13-45\n")
    with pytest.raises(LoadError, match="unknown keys"):
        _FolderDefaults(tmp_path).for_file(tmp_path / "a.md")
