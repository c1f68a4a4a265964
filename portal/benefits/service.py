"""工伤保险待遇 (work-injury benefits): the one door routes and other areas use. Plain Python, no Flask.

The rules engine and its inputs live beside this file and are given here:

- ``facts``: the facts of one case and their checking (:func:`parse_facts`, one set of Chinese
  messages for the page and ``portal benefits estimate``);
- ``engine``: :func:`estimate`, each item with its explanation, on effective-dated figures;
- ``policy``: the figures of ``config/policy/benefits.toml`` (:func:`benefit_policy`);
- ``sensitivity``: which inputs change the estimate most (:func:`effects`).

Its own use cases: :func:`calculate` (what the estimator shows) and the prefill of the estimator
from the signed-in person's recognition case (:func:`case_prefill`, :func:`prefill_cases`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from sqlalchemy.orm import Session

from portal.auth.roles import Actor, Role
from portal.benefits.engine import (
    CODES,
    PAYER_LABELS,
    PERIOD_LABELS,
    Estimate,
    Item,
    PolicyGap,
    estimate,
    yuan,
)
from portal.benefits.facts import (
    FIELD_LABELS,
    CareLevel,
    Dependant,
    Facts,
    FieldError,
    InvalidFacts,
    Outcome,
    Relation,
    cn_date,
    parse_facts,
    unknown_fields,
)
from portal.benefits.policy import BenefitPolicy, benefit_policy, label
from portal.benefits.sensitivity import Effect, effects
from portal.recognition import service as recognition
from portal.recognition.models import CaseStatus, RecognitionCase
from portal.recognition.models import Outcome as RecognitionOutcome

__all__ = [
    # the facts of a case
    "FIELD_LABELS", "CareLevel", "Dependant", "Facts", "FieldError", "InvalidFacts", "Outcome",
    "Relation", "cn_date", "parse_facts", "unknown_fields",
    # the engine and its figures
    "CODES", "PAYER_LABELS", "PERIOD_LABELS", "BenefitPolicy", "Effect", "Estimate", "Item",
    "PolicyGap", "benefit_policy", "effects", "estimate", "label", "yuan",
    # the estimator
    "Calculation", "CasePrefill", "calculate", "case_prefill", "prefill_cases",
]

#: a recognition outcome the estimate is more than a guess for
_RECOGNISED = (RecognitionOutcome.RECOGNISED, RecognitionOutcome.DEEMED)


@dataclass(frozen=True)
class Calculation:
    facts: Facts
    estimate: Estimate
    #: the inputs that change the estimate most, largest first
    effects: list[Effect]


def calculate(data: Mapping[str, Any], *, today: date) -> Calculation:
    """Check the typed facts and estimate them; :class:`InvalidFacts` names every wrong field."""
    facts = parse_facts(data, today=today)
    result = estimate(facts, as_of=today)
    return Calculation(facts, result, effects(facts, result))


@dataclass(frozen=True)
class CasePrefill:
    """What the estimator takes from a recognition case: the day and whether the worker died."""

    day: date | None
    died: bool
    reference: str
    recognised: bool


def case_prefill(sess: Session, actor: Actor, case_id: int) -> CasePrefill:
    """The date (death, else injury) of a recognition case ``actor`` may see; NotFoundError
    (the case's own 404) for any other."""
    case = recognition.load_case(sess, actor, case_id)
    day = case.death_date if case.died and case.death_date else case.event_date
    return CasePrefill(day, bool(case.died), case.reference or f"#{case.id}", case.outcome in _RECOGNISED)


def prefill_cases(sess: Session, actor: Actor, limit: int = 5) -> list[RecognitionCase]:
    """A worker's recognised cases with a date, newest first, to prefill the estimator from."""
    if actor.role is not Role.WORKER:
        return []
    q = (recognition.visible_cases(actor)
         .where(RecognitionCase.status != CaseStatus.DRAFT, RecognitionCase.event_date.is_not(None),
                RecognitionCase.outcome.in_(_RECOGNISED))
         .order_by(RecognitionCase.event_date.desc(), RecognitionCase.id.desc()).limit(limit))
    return list(sess.execute(q).scalars())
