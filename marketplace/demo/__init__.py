"""The synthetic Lu'an demo: departments, catalogue metadata of data assets, and their rows.

Pure data and generators: no database, no services. The demo seeding (``databank demo``)
registers ``DEPARTMENTS``, registers each of ``ASSETS`` with its department, writes its rows with
``write_csv`` and uploads the file through the ordinary import path.
"""

from marketplace.demo.assets import ASSETS, ASSETS_BY_KEY, asset
from marketplace.demo.departments import DEPARTMENTS, DEPARTMENTS_BY_KEY, department
from marketplace.demo.rows import FILE_ENCODINGS, INVALID_USCC_SHARE, ROW_GENERATORS, write_csv

__all__ = [
    "ASSETS", "ASSETS_BY_KEY", "DEPARTMENTS", "DEPARTMENTS_BY_KEY", "FILE_ENCODINGS",
    "INVALID_USCC_SHARE", "ROW_GENERATORS", "asset", "department", "write_csv",
]
