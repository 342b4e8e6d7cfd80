"""The wheel must carry every stylesheet and the web page's files: a non-editable install finds
styles/*.tcss and lobby/cli/page/*."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from lobby.paths import styles_dir

ROOT = Path(__file__).resolve().parents[2]


def test_source_checkout_finds_the_stylesheets():
    found = {p.name for p in styles_dir().glob("*.tcss")}
    assert found and found == {p.name for p in (ROOT / "styles").glob("*.tcss")}


@pytest.mark.slow
def test_non_editable_install_into_a_fresh_venv_finds_every_stylesheet(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import importlib.resources as r, pathlib, lobby;"
        "d = pathlib.Path(str(r.files('lobby'))) / 'styles';"
        "print(pathlib.Path(lobby.__file__).parent.parent != pathlib.Path(%r));"
        "print(','.join(sorted(p.name for p in d.glob('*.tcss'))));"
        "print(','.join(sorted(p.name for p in (d.parent / 'cli' / 'page').iterdir())))" % str(ROOT)
    )
    out = subprocess.run(
        [str(python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout.split()
    assert out[0] == "True", "the probe imported the source tree, not the installed package"
    expected = ",".join(sorted(p.name for p in (ROOT / "styles").glob("*.tcss")))
    assert out[1] == expected
    assert out[2] == ",".join(sorted(p.name for p in (ROOT / "lobby" / "cli" / "page").iterdir()))
    assert sys.prefix != str(env_dir)
