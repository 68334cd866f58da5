"""Credentials: environment, mappings, validation, and secrets that never show."""

from __future__ import annotations

import dataclasses

import pytest

import recanalytics as ra
from recanalytics.credentials import (
    PlivoCredentials,
    SignalWireCredentials,
    TwilioCredentials,
    ZoomCredentials,
)
from recanalytics.errors import CredentialsError
from recanalytics.redact import redact_text, redact_url

SECRET = "s3cr3t-value-123"


@pytest.mark.parametrize(
    "creds",
    [
        TwilioCredentials(account_sid="AC" + "0" * 32, auth_token=SECRET),
        TwilioCredentials(api_key="SK" + "0" * 32, api_secret=SECRET),
        PlivoCredentials(auth_id="MA" + "X" * 18, auth_token=SECRET),
        ZoomCredentials(api_key="key", api_secret=SECRET),
        SignalWireCredentials(project_id="p", api_token=SECRET, space="example"),
    ],
)
def test_secrets_never_in_repr_or_str(creds: object) -> None:
    assert SECRET not in repr(creds) and SECRET not in str(creds) and SECRET not in f"{creds}"
    assert "***" in repr(creds)


def test_from_env_reads_documented_names() -> None:
    env = {"TWILIO_API_KEY": "SK1", "TWILIO_API_KEY_SECRET": SECRET}
    creds = TwilioCredentials.from_env(env)
    assert creds.basic_auth() == ("SK1", SECRET)
    env = {
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_API_KEY": "SK1",
        "TWILIO_API_SECRET": "k",
    }
    assert TwilioCredentials.from_env(env).basic_auth() == ("SK1", "k")  # the key pair wins
    sw = SignalWireCredentials.from_env(
        {"SIGNALWIRE_PROJECT_ID": "p", "SIGNALWIRE_API_TOKEN": "t", "SIGNALWIRE_SPACE": "acme"}
    )
    assert sw.space_url == "https://acme.signalwire.com"
    assert (
        SignalWireCredentials(project_id="p", api_token="t", space="acme.signalwire.com").space_url
        == "https://acme.signalwire.com"
    )


def test_missing_values_name_variables_not_values() -> None:
    with pytest.raises(CredentialsError) as info:
        ZoomCredentials.from_env({"ZOOM_VIDEOSDK_API_KEY": "k"})
    assert "ZOOM_VIDEOSDK_API_SECRET" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert not ZoomCredentials.available({})


def test_plivo_auth_id_shape_is_checked() -> None:
    with pytest.raises(CredentialsError, match="20 characters"):
        PlivoCredentials(auth_id="XX123", auth_token="t")


def test_coerce_accepts_instances_mappings_and_rejects_the_rest() -> None:
    creds = ZoomCredentials.coerce({"api_key": "k", "api_secret": SECRET})
    assert ZoomCredentials.coerce(creds) is creds
    with pytest.raises(CredentialsError, match="unknown keys"):
        ZoomCredentials.coerce({"api_key": "k", "secret": SECRET})
    with pytest.raises(CredentialsError):
        ZoomCredentials.coerce(42)  # type: ignore[arg-type]


def test_redaction_of_urls_and_text() -> None:
    url = "https://user:pw@zoom.us/rec/download/abc?access_token=eyJhbGciOi.x.y&type=1"
    assert redact_url(url) == "https://zoom.us/rec/download/abc?access_token=REDACTED&type=1"
    signed = "https://bucket.s3.amazonaws.com/f.mka?X-Amz-Signature=abc123&X-Amz-Expires=60"
    assert "abc123" not in (redact_url(signed) or "")
    assert (
        redact_url("https://video.twilio.com/v1/Recordings?PageSize=5")
        == "https://video.twilio.com/v1/Recordings?PageSize=5"
    )
    text = f"failed with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig and {SECRET}"
    cleaned = redact_text(text, [SECRET])
    assert SECRET not in cleaned and "eyJhbGciOiJIUzI1NiJ9" not in cleaned


def test_each_provider_spec_names_the_class_its_module_defines() -> None:
    """The classes live in their provider modules; the old import path still finds them."""
    import recanalytics as ra
    import recanalytics.credentials as credentials
    from recanalytics.providers.registry import SPECS

    for name, spec in SPECS.items():
        cls = spec.credentials
        assert cls.provider == name and cls.__module__ == f"recanalytics.providers.{name}"
        assert getattr(credentials, cls.__name__) is cls is getattr(ra, cls.__name__)
    with pytest.raises(AttributeError, match="NoSuchCredentials"):
        _ = credentials.NoSuchCredentials


def test_the_old_import_path_finds_only_the_package_classes() -> None:
    import dataclasses

    import recanalytics.credentials as credentials

    @dataclasses.dataclass(frozen=True, repr=False)
    class MineCredentials(credentials.Credentials):
        pass

    with pytest.raises(AttributeError, match="MineCredentials"):
        _ = credentials.MineCredentials


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (ra.TwilioCredentials, {"account_sid": 5, "auth_token": "t" * 32}),
        (ra.TwilioCredentials, {"account_sid": "AC" + "a" * 32, "auth_token": 123456}),
        (ra.PlivoCredentials, {"auth_id": 5, "auth_token": "t"}),
        (ra.ZoomCredentials, {"api_key": ["k"], "api_secret": "s"}),
        (ra.SignalWireCredentials, {"project_id": "p", "api_token": b"PT", "space": "x"}),
    ],
)
def test_a_field_that_is_not_text_is_named_without_its_value(
    cls: type, fields: dict[str, object]
) -> None:
    # A number was accepted (a TypeError from len() for Plivo) and went into the auth header.
    with pytest.raises(ra.CredentialsError) as info:
        cls(**fields)
    assert isinstance(info.value, ValueError) and "must be a string" in str(info.value)
    assert "123456" not in str(info.value) and "b'PT'" not in str(info.value)


@pytest.mark.parametrize(
    ("cls", "fields", "field"),
    [
        (ra.TwilioCredentials, {"account_sid": "garbage", "auth_token": "t"}, "account_sid"),
        (ra.TwilioCredentials, {"account_sid": "AC" + "a" * 32 + "\n", "auth_token": "t"}, "account_sid"),
        (ra.TwilioCredentials, {"api_key": "AC" + "a" * 32, "api_secret": "t"}, "api_key"),
        (ra.PlivoCredentials, {"auth_id": "MA" + "x" * 17 + "/", "auth_token": "t"}, "auth_id"),
        (ra.SignalWireCredentials, {"project_id": "../x", "api_token": "t", "space": "x"}, "project_id"),
    ],
)  # fmt: skip
def test_an_id_of_the_wrong_form_is_refused_before_any_request(
    cls: type, fields: dict[str, object], field: str
) -> None:
    # The id went out beside the secret and came back as a 401 (SignalWire's, in the path).
    with pytest.raises(ra.CredentialsError, match=field) as info:
        cls(**fields)
    assert isinstance(info.value, ValueError) and "must be" in str(info.value)
    # Placeholders of the right shape, as a mock-server test writes them, are accepted.
    ra.TwilioCredentials(account_sid="ACXXXXXXXXXXXXXXXX", auth_token="t")
    ra.SignalWireCredentials(project_id="p", api_token="t", space="x")


def test_credentials_are_not_pickled_and_copies_are_the_same_value() -> None:
    import copy
    import pickle

    creds = ra.TwilioCredentials(account_sid="AC" + "0" * 32, auth_token=SECRET)
    with pytest.raises(TypeError, match="not picklable: it holds secrets"):
        pickle.dumps(creds)
    assert copy.copy(creds) is creds and copy.deepcopy({"c": creds})["c"] is creds


@pytest.mark.parametrize("token", ['ab/cd+ef=gh&ij"kl\\mn', "tökén-sëcret-ü1234"])
def test_a_secret_echoed_inside_a_json_error_body_is_redacted_in_every_spelling(
    token: str,
) -> None:
    # A server whose error message embeds a JSON document (the request it rejected) holds the
    # credential escaped: quotes and backslashes, and non-ASCII as \u escapes. The error's
    # message must not show it in that spelling either.
    import json

    import httpx

    import recanalytics as ra

    def echo(request: httpx.Request) -> httpx.Response:
        rejected = json.dumps({"auth_token": token})
        return httpx.Response(401, json={"code": 20003, "message": f"Rejected: {rejected}"})

    with pytest.raises(ra.ProviderError) as failed:
        ra.load_twilio_recordings(
            transport=httpx.MockTransport(echo),
            credentials={"account_sid": "AC" + "1" * 32, "auth_token": token},
        )
    shown = f"{failed.value} {failed.value!r} {failed.value.args}"
    for spelling in (token, json.dumps(token)[1:-1], json.dumps(token, ensure_ascii=False)[1:-1]):
        assert spelling not in shown


def test_a_signalwire_project_id_shaped_like_a_token_is_refused() -> None:
    # Swapped with SIGNALWIRE_API_TOKEN, the token was written into every URL and error.
    token = "PT" + "de" * 24
    with pytest.raises(ra.CredentialsError) as info:
        ra.SignalWireCredentials(project_id=token, api_token="x" * 20, space="example")
    assert token not in str(info.value) and "project_id" in str(info.value)


def test_the_zoom_jwt_auth_is_not_pickled() -> None:
    import copy
    import pickle

    from recanalytics.providers.zoom import ZoomJWTAuth

    auth = ZoomJWTAuth("key", "s3cr3t-value")
    auth.token()
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(auth)
    assert copy.deepcopy(auth) is auth and copy.copy(auth) is auth


@pytest.mark.parametrize("bad", ["S3CRET\udce9", "S3CRET\n", "S3\x00CRET", "S3CRET\x85"])
@pytest.mark.parametrize("provider", ["twilio", "plivo", "zoom", "signalwire"])
def test_a_secret_that_no_header_can_carry_is_refused_without_its_value(
    provider: str, bad: str
) -> None:
    # A byte that is not UTF-8 in TWILIO_AUTH_TOKEN reaches os.environ as a lone surrogate: the
    # load raised a UnicodeEncodeError whose repr held the token.
    from provider_cases import CREDENTIALS

    good = CREDENTIALS[provider]
    field = sorted(good.secret_fields)[0]
    with pytest.raises(CredentialsError) as info:
        dataclasses.replace(good, **{field: bad})
    assert field in str(info.value)
    assert "S3CRET" not in repr(info.value) and "S3CRET" not in repr(info.value.args)


def test_from_env_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(ra.ConfigError, match="environ"):
        ra.TwilioCredentials.from_env(5)  # type: ignore[arg-type]
    assert ra.TwilioCredentials.available({}) is False


def test_a_mapping_with_keys_of_mixed_types_is_a_credentials_error() -> None:
    with pytest.raises(CredentialsError, match="unknown keys"):
        ra.TwilioCredentials.coerce({5: 1, "x": 2})  # type: ignore[dict-item]


@pytest.mark.parametrize("space", ["https://127.0.0.1:99999", "127.0.0.1:0", "example.com:70000/x"])
def test_a_signalwire_space_with_a_port_out_of_range_is_refused(space: str) -> None:
    # The load raised an ExceptionGroup(OverflowError) at connect.
    with pytest.raises(CredentialsError, match="space"):
        ra.SignalWireCredentials(project_id="p", api_token="t", space=space)
    assert ra.SignalWireCredentials(project_id="p", api_token="t", space="h:8443").space


@pytest.mark.parametrize(
    ("provider", "field", "value"),
    [
        ("twilio", "auth_token", " t0ken-value "),
        ("twilio", "auth_token", "   "),
        ("zoom", "api_secret", " zoom-secret"),
        ("signalwire", "space", " example "),
    ],
)
def test_a_padded_or_blank_credential_is_refused_before_any_request(
    provider: str, field: str, value: str
) -> None:
    # A token pasted with the line's padding went out in every request, and each answered 401
    # without a word about why.
    import dataclasses

    import httpx
    from provider_cases import CREDENTIALS

    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(401, json={})

    loader = getattr(ra, f"load_{provider}_recordings")
    given = CREDENTIALS[provider]
    credentials = {f.name: getattr(given, f.name) for f in dataclasses.fields(given)}
    credentials[field] = value
    with pytest.raises(ra.CredentialsError) as refused:
        loader(credentials=credentials, transport=httpx.MockTransport(record))
    assert field in str(refused.value) and not requests
    if value.strip():
        assert value.strip() not in str(refused.value)


RELOADED = """
import importlib, warnings
warnings.simplefilter("error")
import recanalytics as ra
import recanalytics.providers.twilio as twilio
from recanalytics.sandbox import Sandbox

box = Sandbox(seed=3, size=20)
made_before = box.options("twilio")  # TwilioCredentials of the module as first imported
importlib.reload(twilio)  # as IPython's %autoreload does after an edit
print(ra.load_twilio_recordings(**made_before).height)
stale = made_before["credentials"]
assert type(stale) is not twilio.TwilioCredentials
assert twilio.TwilioCredentials.coerce(stale) == twilio.TwilioCredentials(
    account_sid=stale.account_sid, auth_token=stale.auth_token
)
"""


def test_credentials_made_before_their_module_was_reloaded_are_accepted() -> None:
    """They were refused: "expected TwilioCredentials, a mapping or None, got
    TwilioCredentials". In a subprocess: reloading a provider module here would leave the
    test process with two of its classes."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", RELOADED], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["20"]


def test_another_class_of_the_same_name_is_refused_naming_both_modules() -> None:
    @dataclasses.dataclass(frozen=True)
    class TwilioCredentials:  # a look-alike from another package
        account_sid: str = "AC" + "0" * 32
        auth_token: str = SECRET

    with pytest.raises(CredentialsError) as caught:
        ra.TwilioCredentials.coerce(TwilioCredentials())  # type: ignore[arg-type]
    message = str(caught.value)
    assert f"got {__name__}.TwilioCredentials, not recanalytics.providers.twilio." in message
    assert SECRET not in message
