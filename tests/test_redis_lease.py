"""testing.databases.RedisLease: each test process (pytest-xdist worker, another run on the
machine) holds a Redis database number of its own, against the real Redis."""

from __future__ import annotations

import pytest
from redis import Redis

from testing.databases import REDIS_URL, RedisLease, unavailable

pytestmark = pytest.mark.redis


@pytest.fixture
def admin() -> Redis:
    client = Redis.from_url(f"{REDIS_URL}/0", socket_connect_timeout=2)
    try:
        client.ping()
    except OSError:
        unavailable("Redis")
    yield client
    client.close()


def test_two_claims_get_two_numbers_and_a_released_one_is_free_again(admin: Redis) -> None:
    first = RedisLease.claim()
    second = RedisLease.claim()
    assert first is not None and second is not None
    try:
        assert first.number != second.number
        assert first.url.endswith(f"/{first.number}") and first.number in RedisLease.NUMBERS
        key = RedisLease.KEY.format(first.number)
        assert admin.get(key) == first.owner.encode()
        assert 0 < admin.ttl(key) <= RedisLease.EXPIRY_SECONDS
    finally:
        second.release()
        first.release()
    assert admin.get(RedisLease.KEY.format(first.number)) is None
    assert admin.get(RedisLease.KEY.format(second.number)) is None


def test_release_leaves_a_claim_that_lapsed_and_went_to_another_run(admin: Redis) -> None:
    lease = RedisLease.claim()
    assert lease is not None
    key = RedisLease.KEY.format(lease.number)
    admin.set(key, "another-run", ex=30)  # ours lapsed; another process claimed the number
    try:
        lease.release()
        assert admin.get(key) == b"another-run"
    finally:
        admin.delete(key)


def test_a_run_fails_clearly_when_every_number_is_held(admin: Redis) -> None:
    """Numbers held by other runs stay theirs; this test holds the rest for a moment."""
    keys = [RedisLease.KEY.format(n) for n in RedisLease.NUMBERS]
    taken = [key for key in keys if admin.set(key, "test-holder", nx=True, ex=30)]
    try:
        with pytest.raises(RuntimeError, match="held by test runs"):
            RedisLease.claim(wait_seconds=0)
    finally:
        if taken:
            admin.delete(*taken)


def test_without_redis_there_is_no_lease() -> None:
    assert RedisLease.claim("redis://127.0.0.1:1") is None
