"""Regenerate the initial migration from the models (`make migration`).

Until the first release the schema is one migration; after it, use
`alembic revision --autogenerate` for each change instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from storage.migrate import MIGRATIONS, alembic_config


def main() -> None:
    versions = MIGRATIONS / "versions"
    for f in versions.glob("*.py"):
        f.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'empty.db'}"
        cfg = alembic_config(url)
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    _add_integrity(versions / "0001_initial_schema.py")
    print("wrote", *sorted(p.name for p in versions.glob("*.py")))


# What autogenerate cannot write (storage/integrity.py).
INTEGRITY = """    # PostgreSQL: metricvalue's reference checks (storage/integrity.py).
    integrity.install(op.get_bind())
"""


def _add_integrity(path: Path) -> None:
    text = path.read_text()
    end = "    # ### end Alembic commands ###\n"
    text = text.replace(end, end + INTEGRITY, 1)
    text = text.replace(
        "import storage.models  # noqa: F401\n",
        "import storage.models  # noqa: F401\nfrom storage import integrity\n",
        1,
    )
    path.write_text(text)


if __name__ == "__main__":
    main()
