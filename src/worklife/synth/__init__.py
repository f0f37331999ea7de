"""The synthetic organisation: generator, raw-file writer and exact ground truth.

    org = generate(people=200, weeks=12, seed=0)
    write(org, Path("out/synth"))            # ics, Maildir, Slack export, git, people.csv, truth
    truth = person_week_metrics(org)         # exact docs/metrics.md values, independent code
    load_into_store(org, store)              # canonical rows straight into a Store

See docs/synth.md for what is planted and the id conventions.
"""

from worklife.synth.generate import generate
from worklife.synth.model import Org
from worklife.synth.store_load import canonical_tables, load_into_store
from worklife.synth.truth import person_week_metrics
from worklife.synth.write import write

__all__ = ["Org", "canonical_tables", "generate", "load_into_store", "person_week_metrics", "write"]
