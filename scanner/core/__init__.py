"""The ground floor: what connectors, detectors and reports may import from ``scanner``.

Only this package: the item model (:mod:`.model`), privacy (:mod:`.privacy`: masking, keyed
hashes, the installation secret), the configuration base (:mod:`.config_base`), the category
catalogue (:mod:`.categories`) and small shared helpers (:mod:`.dates`, :mod:`.exitcodes`,
:mod:`.cells`: the one formula guard for CSV and XLSX cells).
Nothing here imports anything else of the application, so every layer can stand on it
without pulling in the pipeline, the store or a connector's dependencies.
"""
