"""Starting points a user fills in: a people file and a worklife.toml (also in docs/examples/).

``worklife ingest --people-template`` prints ``PEOPLE_TEMPLATE``; a test keeps both copies equal.
"""

from __future__ import annotations

PEOPLE_TEMPLATE = """\
person_id,email,display_name,tz,work_start,work_end,workdays,manager,team,level,jurisdiction,aliases
alice@example.com,alice@example.com,Alice Example,Europe/London,09:00,17:30,Mon-Fri,,Platform,M1,GB,alice.example@example.org
bob@example.com,bob@example.com,Bob Example,America/Chicago,08:00,16:00,Mon-Fri,alice@example.com,Platform,IC2,US-TX,U0123BOB
carol@example.com,carol@example.com,Carol Example,Asia/Dubai,09:00,18:00,Mon-Fri,alice@example.com,Platform,IC3,AE,
"""
