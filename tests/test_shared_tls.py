"""Prefect clients in a warm process share one TLS context (``flows.shared_tls``), built as Prefect builds it."""

from __future__ import annotations

import ssl

from prefect.client.orchestration import PrefectClient, SyncPrefectClient
from prefect.settings import PREFECT_API_TLS_INSECURE_SKIP_VERIFY, temporary_settings

from flows.shared_tls import share_tls_context

API = "https://prefect.example.test/api"


def tls_context_of(client: PrefectClient | SyncPrefectClient) -> ssl.SSLContext:
    return client._client._transport._pool._ssl_context  # type: ignore[attr-defined]


def test_clients_share_one_context_that_verifies_certificates_and_host_names() -> None:
    share_tls_context()

    contexts = [tls_context_of(PrefectClient(API)), tls_context_of(SyncPrefectClient(API)), tls_context_of(PrefectClient(API))]

    assert all(context is contexts[0] for context in contexts)
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname


def test_the_insecure_setting_still_turns_verification_off_and_back_on() -> None:
    share_tls_context()

    with temporary_settings({PREFECT_API_TLS_INSECURE_SKIP_VERIFY: True}):
        insecure = tls_context_of(PrefectClient(API))
    verifying = tls_context_of(PrefectClient(API))

    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname
    assert verifying.verify_mode == ssl.CERT_REQUIRED


def test_a_client_given_its_own_context_keeps_it() -> None:
    share_tls_context()
    own = ssl.create_default_context()

    assert tls_context_of(PrefectClient(API, httpx_settings={"verify": own})) is own
