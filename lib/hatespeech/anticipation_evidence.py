"""Temporary alias of :mod:`hatespeech.anticipation.evidence`, kept only because ``report.py`` (being split in
a parallel change) still imports these four names from here. Delete it once report imports the new path."""

from .anticipation.evidence import phase1_findings, phase1_tables, phase2_findings, phase2_tables

__all__ = ["phase1_findings", "phase1_tables", "phase2_findings", "phase2_tables"]
