"""Huiqi (惠企): Liaoning IP policy rules as cited, testable data, and an engine to evaluate enterprises.

>>> import engine
>>> from datetime import date
>>> result = engine.evaluate(profile_dict, as_of=date(2019, 12, 31))
>>> result.total, [b.rule_id for b in result.benefits]
"""

from engine.evaluate import EngineDisagreement, default_rules, evaluate
from engine.profile import Event, FieldError, Profile, ProfileError, parse_profile
from engine.results import Evaluation
from engine.rulebook import LoadError, Problem, RuleSet, load_rules

__all__ = [
    "EngineDisagreement", "Evaluation", "Event", "FieldError", "LoadError", "Problem", "Profile", "ProfileError",
    "RuleSet", "default_rules", "evaluate", "load_rules", "parse_profile",
]
__version__ = "0.1.0"
