"""Sealed cursors (issue 9): the datastore's keyset cursor leaves the bank encrypted and bound to
its query; anything but the bank's own cursor for that query is "the cursor is not valid"."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from marketplace.datastore import QueryRejected
from marketplace.datastore.cursors import CursorSealer, load_or_create_cursor_key
from marketplace.datastore.query import decode_cursor, encode_cursor

BINDING = b"('asset', 1, 'v_t', None, False, ())"


def test_a_sealed_cursor_opens_to_the_same_cursor_and_reads_as_nothing() -> None:
    sealer = CursorSealer.ephemeral()
    inner = encode_cursor("县", False, "霍山县", 42)
    sealed = sealer.seal(inner, BINDING)
    assert sealer.open(sealed, BINDING) == inner
    raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    assert "霍山县".encode() not in raw and b"42" not in raw and inner.encode() not in raw
    assert sealed.isascii() and len(sealed) < 200


def _refused(sealer: CursorSealer, sealed: object, binding: bytes = BINDING) -> None:
    with pytest.raises(QueryRejected) as info:
        sealer.open(sealed, binding)
    assert info.value.message == "the cursor is not valid" and info.value.code == "BAD_USER_INPUT"


def test_every_single_bit_flip_is_refused() -> None:
    sealer = CursorSealer.ephemeral()
    sealed = sealer.seal(encode_cursor(None, False, None, 7), BINDING)
    raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    for position in range(len(raw)):
        for bit in range(8):
            forged = bytearray(raw)
            forged[position] ^= 1 << bit
            _refused(sealer, base64.urlsafe_b64encode(bytes(forged)).decode())


def test_every_truncation_and_extension_is_refused() -> None:
    sealer = CursorSealer.ephemeral()
    sealed = sealer.seal(encode_cursor(None, True, None, 7), BINDING)
    for cut in range(len(sealed)):
        _refused(sealer, sealed[:cut])
    _refused(sealer, sealed + "A")
    _refused(sealer, sealed + "AAAA")


def test_another_binding_or_another_key_does_not_open_it() -> None:
    sealer = CursorSealer.ephemeral()
    sealed = sealer.seal(encode_cursor(None, False, None, 7), BINDING)
    _refused(sealer, sealed, BINDING.replace(b"False", b"True"))
    _refused(CursorSealer.ephemeral(), sealed)
    _refused(CursorSealer(bytes(32)), sealed)


@pytest.mark.parametrize("garbage", [None, 7, b"bytes", "", "====", "游标", "A" * 10_000, "\x00" * 40])
def test_garbage_is_refused_not_raised(garbage: object) -> None:
    _refused(CursorSealer.ephemeral(), garbage)


def test_a_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        CursorSealer(b"short")


def test_the_key_file_is_private_and_every_worker_reads_the_same_key(tmp_path: Path) -> None:
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_cursor_key(tmp_path)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    path = tmp_path / "keys" / "cursor.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["cursor.key"]  # no leftovers
    # Another process (a second worker, or a restart) seals and opens with the same key.
    sealed = CursorSealer(keys[0]).seal("x", BINDING)
    assert CursorSealer(load_or_create_cursor_key(tmp_path)).open(sealed, BINDING) == "x"


def test_a_damaged_key_file_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "cursor.key").write_bytes(os.urandom(16))
    with pytest.raises(ValueError, match="32-byte"):
        load_or_create_cursor_key(tmp_path)


# ---- the datastore's own cursor: positions a 64-bit store can hold ----------------------------------

def _plain(*payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode()


@pytest.mark.parametrize("cursor", [
    _plain(None, False, None, 2**63), _plain(None, False, None, 2**64 + 1), _plain(None, False, None, -1),
    _plain(None, False, None, True), _plain(None, False, None, 1.5),
    _plain("n", False, 2**63, 1), _plain("n", False, -(2**63) - 1, 1), _plain("n", False, True, 1),
    _plain("n", False, 1.5, 1), _plain("n", False, [1], 1),
])
def test_decoding_refuses_positions_past_64_bits_and_values_of_no_column_type(cursor: str) -> None:
    order_by = json.loads(base64.urlsafe_b64decode(cursor))[0]
    with pytest.raises(QueryRejected):
        decode_cursor(cursor, order_by, False)


def test_decoding_accepts_the_edges_of_64_bits() -> None:
    assert decode_cursor(encode_cursor(None, False, None, 2**63 - 1), None, False) == (None, 2**63 - 1)
    assert decode_cursor(encode_cursor("n", False, -(2**63), 0), "n", False) == (-(2**63), 0)
