"""Escalation policies (督办规则): the deadline rule, send window, 每日待办 threshold and ladder
steps of each policy — offset, recipient roles, channels, template, send-window exemption.
Admin only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

from aiohttp import web
from sqlalchemy import select

from models import MILESTONE_STEPS, LadderStep, Person, Policy, StepKind
from notifier.templating import STEPS
from supervision.access import Permission
from supervision.audit import Actor, record
from supervision.errors import ValidationFailed
from supervision.items import move_co_deadlines
from supervision.labels import Problem, Sentence, say
from supervision.policy import RECIPIENT_ROLES, STEP_CHANNELS
from supervision.schedule import replan_policy
from web.access import require
from web.app import DEPS, WebDeps
from web.i18n import translate
from web.views.common import (
    int_or_none,
    lang_of,
    path_id,
    redirect,
    refused,
    render,
    text_field,
)

ROLE_CHOICES = sorted(str(r) for r in RECIPIENT_ROLES)
CHANNEL_CHOICES = sorted(STEP_CHANNELS)
KINDS = [k.value for k in StepKind]
MAX_STEPS = 12
MAX_DIGEST_THRESHOLD = 100


async def policies_page(request: web.Request) -> web.StreamResponse:
    """GET /policies: every policy with its ladder."""
    require(request, Permission.VIEW_POLICIES)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        policies = (
            await session.scalars(select(Policy).order_by(Policy.source, Policy.urgent))
        ).all()
    return render(request, "policies/list.html", {"policies": policies, "named": _named(request)})


def _named(request: web.Request) -> Callable[[Policy], str]:
    """A policy's name in the reader's words: the default ones are named by their source
    (and 急件), so the name follows the language; another keeps the name it was given."""
    lang = lang_of(request)

    def named(policy: Policy) -> str:
        if policy.source is None:
            return policy.name
        name = translate(f"source.{policy.source}", lang)
        return name + translate("pol.urgent_suffix", lang) if policy.urgent else name

    return named


async def _edit_page(
    request: web.Request, policy_id: int, *, errors: list[str] | None = None, status: int = 200
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        policy = await session.get(Policy, policy_id)
        if policy is None:
            raise web.HTTPNotFound(text="404: no such policy")
    return render(
        request,
        "policies/edit.html",
        {
            "policy": policy,
            "steps": list(policy.steps),
            "blank_rows": 2,
            "roles": ROLE_CHOICES,
            "channels": CHANNEL_CHOICES,
            "kinds": KINDS,
            "templates": STEPS,
            "errors": errors or [],
            "named": _named(request),
        },
        status=status,
    )


async def policy_edit(request: web.Request) -> web.StreamResponse:
    """GET /policies/{id}."""
    require(request, Permission.EDIT_POLICIES)
    return await _edit_page(request, path_id(request))


def _time(value: str, problem: Sentence, problems: list[Problem]) -> time | None:
    try:
        return time.fromisoformat(value)
    except ValueError:
        problems.append((problem, {}))
        return None


def parse_steps(form: Any, problems: list[Problem]) -> list[dict[str, Any]]:
    """The ladder rows of the form (``step-N-field``); blank rows are skipped, the problems
    of the others added to ``problems``."""
    steps: list[dict[str, Any]] = []
    for n in range(MAX_STEPS):
        kind = text_field(form, f"step-{n}-kind")
        if not kind:
            continue
        row = {"n": n + 1}
        if kind not in KINDS:
            problems.append((Sentence.STEP_UNKNOWN, row | {"kind": kind}))
            continue
        offset = int_or_none(form.get(f"step-{n}-offset"))
        if offset is None or not -60 <= offset <= 60:
            problems.append((Sentence.STEP_OFFSET, row))
            continue
        if kind == StepKind.PERIODIC and offset < 1:
            problems.append((Sentence.STEP_PERIOD, row))
        roles = [r for r in form.getall(f"step-{n}-roles", []) if isinstance(r, str)]
        channels = [c for c in form.getall(f"step-{n}-channels", []) if isinstance(c, str)]
        bad = [r for r in roles if r not in ROLE_CHOICES] + [
            c for c in channels if c not in CHANNEL_CHOICES
        ]
        if bad:
            problems.append((Sentence.STEP_UNKNOWN_VALUES, row | {"values": ", ".join(bad)}))
        if not roles:
            problems.append((Sentence.STEP_NO_ROLE, row))
        if not channels:
            problems.append((Sentence.STEP_NO_CHANNEL, row))
        template = text_field(form, f"step-{n}-template") or kind
        if template not in STEPS:
            problems.append((Sentence.STEP_UNKNOWN_TEMPLATE, row | {"template": template}))
        elif (template in MILESTONE_STEPS) != (kind in MILESTONE_STEPS):
            # A milestone's message speaks of the milestone, an assignment's of the assignment.
            problems.append((Sentence.STEP_MILESTONE_TEMPLATE, row))
        steps.append(
            {
                "kind": kind,
                "offset_days": offset,
                "roles": roles,
                "channels": channels,
                "template": template,
                "ignore_send_window": form.get(f"step-{n}-ignore_window") == "on",
                "active": form.get(f"step-{n}-active") == "on",
            }
        )
    return steps


async def policy_save(request: web.Request) -> web.StreamResponse:
    """POST /policies/{id}: save the rule, window and ladder (all or nothing)."""
    me = require(request, Permission.EDIT_POLICIES)
    deps: WebDeps = request.app[DEPS]
    policy_id = path_id(request)
    form = await request.post()
    problems: list[Problem] = []
    days = int_or_none(form.get("due_working_days"))
    if days is None or not 1 <= days <= 365:
        problems.append((Sentence.POLICY_DUE_DAYS, {}))
    co_text = text_field(form, "co_lead_days")  # left out: the policy keeps its setting
    co_days = int_or_none(co_text)
    if co_text and (co_days is None or not 0 <= co_days <= 60):
        problems.append((Sentence.POLICY_CO_DAYS, {}))
    start = _time(text_field(form, "send_window_start"), Sentence.WINDOW_START_BAD, problems)
    end = _time(text_field(form, "send_window_end"), Sentence.WINDOW_END_BAD, problems)
    if start and end and start >= end:
        problems.append((Sentence.WINDOW_ORDER, {}))
    threshold_text = text_field(form, "digest_threshold")
    threshold = int_or_none(threshold_text) if threshold_text else None
    if threshold_text and (threshold is None or not 1 <= threshold <= MAX_DIGEST_THRESHOLD):
        problems.append((Sentence.DIGEST_THRESHOLD, {"max": MAX_DIGEST_THRESHOLD}))
    steps = parse_steps(form, problems)
    if not steps:
        problems.append((Sentence.POLICY_NO_STEP, {}))
    if problems:
        lang = lang_of(request)
        errors = [say(sentence, lang, **values) for sentence, values in problems]
        return await _edit_page(request, policy_id, errors=errors, status=400)
    try:
        async with deps.sessions() as session, session.begin():
            policy = await session.get(Policy, policy_id)
            if policy is None:
                raise web.HTTPNotFound(text="404: no such policy")
            before = _snapshot(policy)
            assert days is not None and start is not None and end is not None
            old_co_days = policy.co_lead_days
            co_days = old_co_days if co_days is None else co_days
            policy.due_working_days = days
            policy.co_lead_days = co_days
            policy.send_window_start = start
            policy.send_window_end = end
            policy.workdays_only = form.get("workdays_only") == "on"
            policy.digest_threshold = threshold
            policy.steps = [LadderStep(position=i, **spec) for i, spec in enumerate(steps)]
            await session.flush()
            actor = Actor.of(await session.get_one(Person, me.person_id))
            if co_days != old_co_days:
                await move_co_deadlines(session, policy, old_co_days, actor=actor, clock=deps.clock)
            replanned = await replan_policy(session, policy, clock=deps.clock)
            record(
                session,
                clock=deps.clock,
                actor=actor,
                entity="policy",
                entity_id=policy.id,
                action="update",
                detail={"before": before, "after": _snapshot(policy), "replanned": replanned},
            )
    except ValidationFailed as exc:
        return await _edit_page(request, policy_id, errors=refused(request, exc), status=400)
    raise redirect(f"/policies/{policy_id}?msg=flash.saved")


def _snapshot(policy: Policy) -> dict[str, Any]:
    return {
        "due_working_days": policy.due_working_days,
        "co_lead_days": policy.co_lead_days,
        "window": [policy.send_window_start.isoformat(), policy.send_window_end.isoformat()],
        "workdays_only": policy.workdays_only,
        "digest_threshold": policy.digest_threshold,
        "steps": [
            [s.kind, s.offset_days, list(s.roles), list(s.channels), s.template, s.active]
            for s in policy.steps
        ],
    }


def routes(app: web.Application) -> None:
    """Register the policy pages."""
    app.router.add_get("/policies", policies_page, name="policies")
    app.router.add_get("/policies/{id:\\d+}", policy_edit, name="policy")
    app.router.add_post("/policies/{id:\\d+}", policy_save)
