import copy
from pathlib import Path

import pytest
import yaml

from conditions.catalog_validation import CATALOG_PATH
from conditions.services import catalog_load

SMALL_CATALOG = Path(__file__).parent / "data" / "small_catalog.yaml"


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_catalog_data() -> dict:
    return read_yaml(SMALL_CATALOG)


@pytest.fixture
def small_data(small_catalog_data) -> dict:
    """A private copy of the small catalogue, free to edit."""
    return copy.deepcopy(small_catalog_data)


@pytest.fixture(scope="session")
def real_catalog_data() -> dict:
    return read_yaml(CATALOG_PATH)


@pytest.fixture
def real_data(real_catalog_data) -> dict:
    """A private copy of the real catalogue, free to edit."""
    return copy.deepcopy(real_catalog_data)


@pytest.fixture
def small_catalog(db):
    """The small test catalogue, loaded."""
    return catalog_load(path=SMALL_CATALOG)
