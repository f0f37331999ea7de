"""A synthetic store with app accounts, shared by the app tests (synthetic people only).

60 people in six planted teams over 3 weeks: Atlas, Borealis, Electra and Fornax have
at least 10 people (shown), Deneb and Cassini 9 each (suppressed; together 18, so no
shown team needs hiding to protect them — complementary suppression stays out of the
role matrix, and has a test of its own). Team leads are
user001 (Atlas), user011 (Borealis) and user031 (Deneb).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worklife.app.users import AppDb, users_db_path
from worklife.config import Config
from worklife.store import connect

PASSWORD = "correct-horse-battery"
EMPLOYEE = "user002@example.com"  # Atlas, reports to user001
COLLEAGUE = "user003@example.com"  # Atlas too
ALIAS = "u-two@chat.example.com"  # an alias of EMPLOYEE
ACCOUNTS = {
    "employee": (EMPLOYEE, "employee", EMPLOYEE),
    "manager": ("user001@example.com", "manager", "user001@example.com"),
    "manager_small": ("user031@example.com", "manager", "user031@example.com"),
    "analyst": ("analyst@example.com", "analyst", None),
    "admin": ("admin@example.com", "admin", None),
}


@dataclass(frozen=True)
class AppEnv:
    store_path: Path
    config: Config


def build_env(folder: Path, people: int = 60, weeks: int = 3, seed: int = 1,
              two_small_teams: bool = True) -> AppEnv:
    """Write the synthetic store and its accounts into ``folder``."""
    from worklife import synth

    org = synth.generate(people=people, weeks=weeks, seed=seed)
    path = folder / "worklife.duckdb"
    with connect(path) as store:
        synth.load_into_store(org, store)
        # one Cassini member moves to Fornax: Cassini 9, Fornax 12 (see the docstring)
        if two_small_teams:
            mover = store.con.execute("SELECT max(person_id) FROM people WHERE team = 'Cassini'").fetchall()[0][0]
            store.con.execute("UPDATE people SET team = 'Fornax' WHERE person_id = ?", [mover])
        store.upsert("person_aliases", [{"alias": ALIAS, "person_id": EMPLOYEE, "kind": "chat", "source": "test"}],
                     update=True)
    config = Config()
    db = AppDb(users_db_path(path, config))
    for email, role, person in ACCOUNTS.values():
        db.add_user(email, role, PASSWORD, person)
    db.close()
    return AppEnv(path, config)
