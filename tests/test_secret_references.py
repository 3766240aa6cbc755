"""`${secret:NAME}` references: checked in the config, expanded at spawn, masked in output."""

import pytest

from procclaw.config import ConfigError, parse_config
from procclaw.secrets.mask import MASK, SecretMask
from procclaw.secrets.references import MissingSecret, expand, reference_problem, secret_names


def test_expand_fills_variables_and_secrets_in_one_pass():
    variables = {"HOME": "/home/me"}
    secrets = {"TOKEN": "t-${HOME}"}
    text = "${HOME}/x ${secret:TOKEN} ${UNSET}."
    # A secret's value is taken as it is, never searched for references itself.
    assert expand(text, variables, secrets) == "/home/me/x t-${HOME} ."


def test_expand_without_variables_leaves_them_as_written():
    assert expand("${secret:A}:${PORT}", None, {"A": "v"}) == "v:${PORT}"


def test_a_secret_missing_at_expansion_is_named():
    with pytest.raises(MissingSecret) as missing:
        expand("x ${secret:NOPE}", {}, {})
    assert str(missing.value) == "secret 'NOPE' not found"


def test_secret_names_are_listed_once_in_order():
    assert secret_names("${secret:B}${secret:A}${X}${secret:B}") == ["B", "A"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("${secret:}", "in ${secret:}: '' is not a valid secret name"),
        ("${secret:has space}", "in ${secret:has space}: 'has space' is not a valid secret name"),
        ("${secret:.hidden}", "'.hidden' is not a valid secret name"),
        ("abc ${secret:OPEN", "a ${secret:...} reference is not closed: add the '}'"),
    ],
)
def test_bad_references_are_described(text, problem):
    assert problem in (reference_problem(text) or "")


@pytest.mark.parametrize("text", ["plain", "${secret:A.b-c_9}", "$HOME ${HOME}", "${secret:x}y"])
def test_good_references_pass(text):
    assert reference_problem(text) is None


def test_bad_references_in_env_and_api_token_are_config_errors_with_their_line():
    settings = "api:\n  auth:\n    enabled: true\n    token: ${secret:bad name}\n"
    jobs = "jobs:\n  a:\n    cmd: x\n    env:\n      OK: ${secret:FINE}\n      KEY: ${secret:oops\n"
    with pytest.raises(ConfigError) as error:
        parse_config(settings, jobs)
    assert [str(problem) for problem in error.value.problems] == [
        "procclaw.yaml:4: api.auth.token: in ${secret:bad name}: 'bad name' is not a valid "
        "secret name: use letters, digits, '_', '-' and '.' (at most 128, not starting "
        "with '-' or '.')",
        "jobs.yaml:6: job 'a': env.KEY: a ${secret:...} reference is not closed: add the '}'",
    ]


def test_an_api_token_may_be_a_secret_reference_kept_unresolved():
    config = parse_config("api:\n  auth:\n    enabled: true\n    token: ${secret:API}\n", None)
    assert config.settings.api.auth.token == "${secret:API}"


def test_the_mask_hides_every_value_longest_first():
    mask = SecretMask(["abc", "abcdef", ""])
    assert mask.text("x abcdef y abc z") == f"x {MASK} y {MASK} z"
    assert mask.lines(["abc", "none"]) == [MASK, "none"]
    assert not SecretMask([""])


def test_the_mask_hides_each_long_line_of_a_multi_line_secret():
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----"
    mask = SecretMask([key])
    assert mask.lines(["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-----"]) == [MASK, "-----"]
