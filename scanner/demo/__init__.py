"""Built-in demo data: a seeded generator of Dutch school mail and shared-folder files.

``schoonschip demo`` and the benchmarks use it. Everything is fictional and deterministic for a
given seed; see ``scanner/demo/README.md`` for the layout and the ground truth it provides.
"""

from scanner.demo.corpus import DemoCorpus, bulk_sources, generate_bulk, generate_demo
from scanner.demo.planted import PlantedValues

__all__ = ["DemoCorpus", "PlantedValues", "bulk_sources", "generate_bulk", "generate_demo"]
