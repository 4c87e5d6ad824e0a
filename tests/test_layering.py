"""The apps depend one way (README "Layout"), checked by import-linter's contract in pyproject.toml.

The second test shows the check has teeth: a copy of the project with one forbidden import added (plans
importing the tracker) fails the same contract, naming the import.
"""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kneerehab", "conditions", "plans", "tracker")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(where / "pyproject.toml")],
                          cwd=where, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(where), "PATH": str(LINT_IMPORTS.parent)})


def test_the_apps_depend_one_way():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_a_forbidden_import_breaks_the_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "plans" / "layering_probe.py").write_text("from tracker.models import CheckIn  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "plans.layering_probe -> tracker.models" in result.stdout, result.stdout
