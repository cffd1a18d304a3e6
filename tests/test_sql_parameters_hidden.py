"""SQL parameters never reach the log or an error message, even with echo (``duban -v``)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import ApiToken
from models.db import create_sessionmaker

SECRET = "dbn_this-value-must-never-be-logged"


async def test_parameters_are_hidden_in_echo_and_errors(engine, caplog) -> None:
    engine.echo = True
    try:
        sessions = create_sessionmaker(engine)
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            async with sessions() as s:
                await s.scalar(select(ApiToken).where(ApiToken.token_hash == SECRET))
            with pytest.raises(IntegrityError) as failure:
                async with sessions() as s, s.begin():
                    s.add(ApiToken(name=SECRET, token_hash=SECRET, person_id=987654))
        assert "api_tokens" in caplog.text  # the statements are logged...
        assert SECRET not in caplog.text  # ...their parameters are not
        assert SECRET not in str(failure.value)
    finally:
        engine.echo = False
