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
    print("wrote", *sorted(p.name for p in versions.glob("*.py")))


if __name__ == "__main__":
    main()
