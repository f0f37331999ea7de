"""The synthetic organisation: generator, raw-file writer and exact ground truth.

    org = generate(people=200, weeks=12, seed=0)
    write(org, Path("out/synth"))            # ics, Maildir, Slack export, git, people.csv, truth
    truth = person_week_metrics(org)         # exact docs/metrics.md values, independent code
    load_into_store(org, store)              # canonical rows straight into a Store
    load_into_store(generate_divisions(10_000, 52), store)   # large orgs: one division at a time

See docs/synth.md for what is planted and the id conventions.
"""

from worklife.synth.divisions import concat_divisions, division_layout, generate, generate_divisions
from worklife.synth.generate import DIVISION_SIZE
from worklife.synth.model import Org
from worklife.synth.store_load import canonical_tables, load_into_store
from worklife.synth.truth import person_week_metrics
from worklife.synth.write import write

__all__ = ["DIVISION_SIZE", "Org", "canonical_tables", "concat_divisions", "division_layout", "generate",
           "generate_divisions", "load_into_store", "person_week_metrics", "write"]
