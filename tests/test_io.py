"""irlgan._io: atomic writes leave the old file or the new one, never half, and no debris."""

from __future__ import annotations

import os
import stat

import pytest

from irlgan._io import atomic_write, atomic_write_text, write_json


def test_atomic_write_replaces_the_file_and_gets_the_mode_of_a_plain_write(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_json(target, {"a": 1})
    assert target.read_text() == '{\n  "a": 1\n}\n'
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    assert os.listdir(target.parent) == ["out.json"]


def test_a_failing_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def fail(handle):
        handle.write(b"half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        atomic_write(target, fail)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
