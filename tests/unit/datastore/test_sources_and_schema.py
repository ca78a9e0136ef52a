"""Encoding detection, line numbers, type inference and the converters, without a database."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identifiers import USCC_ALPHABET, check_uscc, org_code_check_char, uscc_check_char
from marketplace.datastore import Column, ColumnType, ImportRejected, ImportSpec, Semantic
from marketplace.datastore.importer import ImportPlan
from marketplace.datastore.quality import uscc_is_valid
from marketplace.datastore.schema import infer_type, to_datetime, to_decimal
from marketplace.datastore.sources import detect_encoding


def plan(data: bytes, **spec) -> ImportPlan:
    return ImportPlan(io.BytesIO(data), ImportSpec(spec.pop("fmt", "csv"), **spec))


def rows(data: bytes, **spec) -> list[tuple]:
    p = plan(data, **spec)
    return [row for batch in p.batches(3) for row in batch]


def test_encoding_detection_prefers_a_bom_then_utf8_then_gb18030() -> None:
    assert detect_encoding(b"\xef\xbb\xbfa", True) == "utf-8-sig"
    assert detect_encoding("六安市".encode(), True) == "utf-8"
    assert detect_encoding("六安市".encode("gb18030"), True) == "gb18030"


def test_a_multibyte_character_cut_at_the_end_of_the_first_chunk_is_still_utf8() -> None:
    assert detect_encoding("六安".encode()[:-1], False) == "utf-8"


def test_a_utf8_character_split_across_chunks_decodes_whole() -> None:
    body = "x" * (65536 - 5) + ",六安市\n"  # the 3-byte character straddles the 64 KiB boundary
    result = rows(("a,b\n" + body).encode())
    assert result[0][2] == "六安市"


def test_utf16_files_are_refused_with_a_hint() -> None:
    with pytest.raises(ImportRejected) as info:
        plan("a,b\n1,2\n".encode("utf-16"))
    assert info.value.code == "UNDECODABLE" and "UTF-16" in info.value.message


def test_a_nul_character_is_refused_with_its_line() -> None:
    with pytest.raises(ImportRejected) as info:
        rows(b"a\n1\n2\x00\n")
    assert (info.value.code, info.value.line) == ("UNDECODABLE", 3)


def test_blank_lines_are_skipped_and_crlf_line_ends_are_accepted() -> None:
    assert rows(b"a,b\r\n1,2\r\n\r\n3,4\r\n\r\n") == [(1, 1, 2), (2, 3, 4)]


def test_a_file_without_a_final_newline_keeps_its_last_row() -> None:
    assert rows(b"a\nx\ny") == [(1, "x"), (2, "y")]


def test_line_numbers_count_quoted_newlines_and_blank_lines() -> None:
    p = plan(b'a,b\n1,"x\ny"\n\n2,z\n', key_columns=["a"])
    list(p.batches())
    assert [p.line_of_row(1), p.line_of_row(2)] == [2, 5]


@pytest.mark.parametrize(("values", "expected"), [
    (["1", "-2", "30"], ColumnType.INTEGER),
    (["1", "2.5"], ColumnType.DECIMAL),
    (["007", "12"], ColumnType.STRING),
    (["0.5", "05.5"], ColumnType.STRING),
    (["99999999999999999999"], ColumnType.STRING),
    (["2020-01-05", "1999-12-31"], ColumnType.DATE),
    (["2020-02-30"], ColumnType.STRING),
    (["2020-01-05 10:00:00", "2020-01-06T11:30", "2020-01-07"], ColumnType.DATETIME),
    (["是", "否"], ColumnType.BOOLEAN),
    (["true", "FALSE"], ColumnType.BOOLEAN),
    (["是", "false"], ColumnType.STRING),
    (["1", "0"], ColumnType.INTEGER),
    (["六安", "1"], ColumnType.STRING),
    ([], ColumnType.STRING),
])
def test_inference_picks_the_narrowest_type_all_sample_values_fit(values, expected) -> None:
    assert infer_type(values) is expected


def test_empty_cells_do_not_vote_and_identifier_columns_stay_text() -> None:
    p = plan(b"n,\xe8\x81\x94\xe7\xb3\xbb\xe7\x94\xb5\xe8\xaf\x9d\n,13800138000\n5,13900139000\n")
    assert [c.type for c in p.columns] == [ColumnType.INTEGER, ColumnType.STRING]
    assert p.columns[1].semantic is Semantic.MOBILE


def test_overrides_win_over_inference() -> None:
    p = plan(b"code\n0564\n", type_overrides={"code": ColumnType.INTEGER})
    assert p.columns[0].type is ColumnType.INTEGER
    assert [r for b in p.batches() for r in b] == [(1, 564)]


@pytest.mark.parametrize(("text", "stored"), [
    ("100.50", "100.50"), ("+5", "5"), (".5", "0.5"), ("-0.00", "0.00"), ("007.10", "7.10"), ("5.", "5"),
])
def test_decimals_are_stored_as_exact_canonical_text(text, stored) -> None:
    assert to_decimal(text) == stored


def test_datetimes_with_an_offset_are_stored_in_china_standard_time() -> None:
    assert to_datetime("2024-05-01T00:30:00Z") == "2024-05-01T08:30:00"
    assert to_datetime("2024-05-01 08:30") == "2024-05-01T08:30:00"


def test_a_column_round_trips_through_plain_json_types() -> None:
    column = Column("代码", ColumnType.STRING, Semantic.USCC, key=True)
    assert column.to_dict() == {"name": "代码", "type": "string", "semantic": "uscc", "key": True,
                                "filterable": True}
    assert Column.from_dict(column.to_dict()) == column


def test_a_key_column_is_always_filterable_its_unique_index_serves_it() -> None:
    assert Column("代码", ColumnType.STRING, key=True, filterable=False).filterable


@pytest.mark.parametrize("recorded, filterable", [
    ({"name": "代码", "type": "string", "semantic": None, "key": True}, True),
    ({"name": "名称", "type": "string", "semantic": None, "key": False}, False),
    ({"name": "日期", "type": "date", "semantic": None, "key": False, "filterable": None}, False),
])
def test_columns_recorded_before_filterable_existed_count_their_keys_alone_as_indexed(recorded, filterable) -> None:
    assert Column.from_dict(recorded).filterable is filterable


def _uscc(body: str) -> str:
    head = "91" + "341502" + body[:8] + org_code_check_char(body[:8])
    return head + uscc_check_char(head)


@given(st.text(alphabet=USCC_ALPHABET + "IOSVZa六 ", min_size=16, max_size=19))
def test_the_fast_uscc_test_agrees_with_the_domain_check_on_any_text(code: str) -> None:
    assert uscc_is_valid(code) == (check_uscc(code) is None)


@given(st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_the_fast_uscc_test_agrees_with_the_domain_check_on_near_valid_codes(body, position, char) -> None:
    code = _uscc(body)
    assert uscc_is_valid(code) and check_uscc(code) is None
    changed = code[:position] + char + code[position + 1:]
    assert uscc_is_valid(changed) == (check_uscc(changed) is None)
