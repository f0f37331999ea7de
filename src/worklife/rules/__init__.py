"""Rules that make the numbers, each written once with one rendering per engine.

- ``worklife.rules.meetings``: the qualifying meeting (Ibis for metrics; SQL for policy,
  digest and the report heat-map).
"""
