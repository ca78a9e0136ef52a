"""Bulk exports: the ``requestExport`` mutation that answers a short-lived signed link."""
