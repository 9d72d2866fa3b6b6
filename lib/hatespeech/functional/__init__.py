"""Functional tests (HateCheck, :mod:`hatespeech.data.hatecheck`): what every classifier of the study does
with counter-speech, negation, identity mentions and spelling tricks, which held-out scores hide.

* :mod:`.accuracy`: accuracy per functionality / target group with template-level intervals, and the alarm
  view of per-word trajectories (scores taken as given);
* :mod:`.run`: notebook 06 end to end (which score and threshold stand for "hateful" in each system);
* :mod:`.results`: :class:`FunctionalResult`, ``functional.json``.
"""

from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".accuracy": (
            "CASE_COLUMNS",
            "GROUPINGS",
            "alarm_profile",
            "discrimination",
            "functional_accuracy",
        ),
        ".results": ("FunctionalResult",),
        ".run": (
            "FunctionalRun",
            "SystemScores",
            "run_functional_tests",
            "score_systems",
        ),
    },
)
