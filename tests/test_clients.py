"""ui.clients: who a client is (the proxy's header only when trusted) and short quotes."""

from __future__ import annotations

from types import SimpleNamespace

from ui import clients


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy():
    headers = {"x-forwarded-for": "203.0.113.5, 10.0.0.1"}
    assert clients.client_id(headers, "127.0.0.1", trusted=True) == "203.0.113.5"
    assert clients.client_id(headers, "127.0.0.1", trusted=False) == "127.0.0.1"
    assert clients.client_id({}, "127.0.0.1", trusted=True) == "127.0.0.1"        # no header: the connection
    assert clients.client_id({}, None, trusted=False) == clients.UNKNOWN
    assert len(clients.client_id({"x-forwarded-for": "a" * 10_000}, None, trusted=True)) == clients.ADDRESS_CHARS


def test_trust_follows_the_space_or_the_setting():
    assert clients.trust_proxy({"SYSTEM": "spaces"})
    assert clients.trust_proxy({"SRCNN_TRUST_PROXY": "1"})
    assert not clients.trust_proxy({})
    assert not clients.trust_proxy({"SRCNN_TRUST_PROXY": "0", "SYSTEM": "other"})


def test_scope_and_request_give_the_same_client():
    scope = {"headers": [(b"x-forwarded-for", b"198.51.100.7")], "client": ("127.0.0.1", 5000)}
    request = SimpleNamespace(headers={"X-Forwarded-For": "198.51.100.7"}, client=SimpleNamespace(host="127.0.0.1"))
    for trusted, want in ((True, "198.51.100.7"), (False, "127.0.0.1")):
        assert clients.scope_client(scope, trusted) == clients.request_client(request, trusted) == want
    assert clients.request_client(None) == clients.UNKNOWN


def test_quoted_cuts_a_long_value_and_says_how_long_it_was():
    assert clients.quoted("x3") == "'x3'"
    long = clients.quoted("9" * 10_000_000)
    assert long.startswith("'999") and long.endswith("(10,000,000 characters)") and len(long) < 80
