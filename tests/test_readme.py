"""The README stays true: its Python example runs, its two commands are Makefile targets."""

from __future__ import annotations

import re
import runpy

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_python_example_runs(tmp_path, monkeypatch):
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    script = tmp_path / "readme_example.py"
    script.write_text(block)
    monkeypatch.setenv("OCO2EXPLORE_CACHE", str(tmp_path / "cache"))
    namespace = runpy.run_path(str(script))
    assert len(namespace["matches"]) > 0
    assert namespace["fit"].success


def test_the_two_setup_commands_are_make_targets():
    makefile = (REPO / "Makefile").read_text()
    for target in ("app", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.M)
    assert "make test" in (REPO / ".ci" / "run").read_text()
