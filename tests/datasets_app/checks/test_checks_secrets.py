"""Secrets: real credential formats are errors, random-looking literals assigned to secret names
are warnings, and code that only *names* a secret is never flagged.

Every key below is built here, of the right shape, from a seeded random generator: none is real.
"""

import random
import string
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasets_app.checks import CheckSettings, check_example
from datasets_app.checks.batch_screen import re2_screen
from datasets_app.checks.secrets import find_secrets, mask_secret, may_contain_secret

rnd = random.Random(16)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"
HEX = "0123456789abcdef"


def fake(alphabet, n):
    return "".join(rnd.choice(alphabet) for _ in range(n))


def b64url(text):
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def jwt():
    header = b64url('{"alg":"HS256","typ":"JWT"}')
    payload = b64url('{"sub":"4242","name":"Ada","iat":1700000000}')
    return f"{header}.{payload}.{fake(URLSAFE, 43)}"


def pem():
    body = "\n".join(fake(B64, 64) for _ in range(4))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


KNOWN = [
    ("AWS access key id", "AKIA" + fake(string.ascii_uppercase + "234567", 16)),
    ("AWS access key id", "ASIA" + fake(string.ascii_uppercase + "234567", 16)),
    ("GitHub token", "ghp_" + fake(ALNUM, 36)),
    ("GitHub token", "gho_" + fake(ALNUM, 36)),
    ("GitHub token", "ghs_" + fake(ALNUM, 36)),
    ("GitHub token", "github_pat_" + fake(ALNUM, 22) + "_" + fake(ALNUM, 59)),
    ("Slack token", "xoxb-" + fake("0123456789", 12) + "-" + fake(ALNUM, 24)),
    (
        "Slack token",
        "xoxp-" + fake("0123456789", 11) + "-" + fake("0123456789", 12) + "-" + fake(HEX, 32),
    ),
    (
        "Slack webhook URL",
        "https://hooks.slack.com/services/T"
        + fake("ABCDEFGHJK0123456789", 8)
        + "/B"
        + fake("ABCDEFGHJK0123456789", 10)
        + "/"
        + fake(ALNUM, 24),
    ),
    ("Stripe live key", "sk_live_" + fake(ALNUM, 24)),
    ("Stripe live key", "rk_live_" + fake(ALNUM, 99)),
    ("Google API key", "AIza" + fake(URLSAFE, 35)),
    ("OpenAI API key", "sk-" + fake(ALNUM, 48)),
    ("OpenAI API key", "sk-proj-" + fake(URLSAFE, 156)),
    ("Anthropic API key", "sk-ant-api03-" + fake(URLSAFE, 93)),
    ("JSON Web Token", jwt()),
    ("private key", pem()),
    ("Azure storage account key", "AccountKey=" + fake(B64, 86) + "=="),
    ("Azure shared access key", "SharedAccessKey=" + fake(B64, 43) + "="),
    ("Azure AD client secret", fake(ALNUM, 3) + "8Q~" + fake(URLSAFE + "~.", 34)),
    ("Twilio API key", "SK" + fake(HEX, 32)),
    ("SendGrid API key", "SG." + fake(URLSAFE, 22) + "." + fake(URLSAFE, 43)),
    ("Hugging Face token", "hf_" + fake(ALNUM, 34)),
    (
        "database URL with a password",
        f"postgresql://app:{fake(ALNUM + '!#%', 16)}@db.internal:5432/app",
    ),
    ("database URL with a password", f"mongodb+srv://svc:{fake(ALNUM, 20)}@cluster0.mongodb.net/x"),
    ("database URL with a password", f"POSTGRESQL+psycopg://svc:{fake(ALNUM, 20)}@db/x"),
]


def check(answer, prompt="Show me the config."):
    content = {
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    }
    return [f for f in check_example(content, CheckSettings()) if "secret" in f.rule_id]


@pytest.mark.parametrize(
    ("kind", "secret"), KNOWN, ids=[f"{k}-{i}" for i, (k, _) in enumerate(KNOWN)]
)
def test_it_flags_every_known_format_as_an_error_without_echoing_it(kind, secret):
    [found] = check(f"Here is the config:\n\n```\nSETTING {secret}\n```\nKeep it safe.")
    assert found.rule_id == "contains_secret" and found.severity == "error"
    assert found.details["kind"] == kind
    assert kind in found.message
    assert found.path == "messages[1].content"
    hidden = secret.split("=", 1)[-1] if secret.startswith(("Account", "Shared")) else secret
    assert hidden not in found.message and hidden not in str(found.details)
    assert f"({found.details['length']} chars)" in found.message


@pytest.mark.parametrize("secret", [secret for _, secret in KNOWN])
def test_its_screens_never_rule_out_a_known_format(secret):
    text = f"Config: {secret} (rotate it)"
    assert may_contain_secret(text)
    assert "contains_secret" in re2_screen([text])[0]


def test_it_masks_with_the_first_four_characters_and_the_length():
    token = "ghp_" + fake(ALNUM, 36)
    [found] = check(f"token {token}")
    assert found.details["masked"] == "ghp_… (40 chars)"
    assert mask_secret("Xy9$kP2!") == "Xy… (8 chars)"  # a short value shows less


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('password = "Xy9$kP2!qLm4"', "password"),
        ("API_KEY: 'a8f3c91b7e2d4f60a9b1c3d5e7f90123'", "API_KEY"),
        ('const clientSecret = "Q2hx9LmPz4RtVw8KsN3b";', "clientSecret"),
        ("DB_PASSWORD=Tq7#mZ2vLp9x", "DB_PASSWORD"),
        ("password: Tq7#mZ2vLp9xWs", "password"),  # YAML: the key starts its line
        ('{"auth_token": "b1d3F5h7J9k2M4n6P8q0"}', "auth_token"),
        ("$config['secret_key'] => 'pX8#nQ2!vR5@tY7z'", "secret_key"),
    ],
)
def test_it_warns_on_high_entropy_literals_assigned_to_secret_names(text, name):
    [found] = check(text)
    assert found.rule_id == "possible_secret" and found.severity == "warning"
    assert found.details["name"] == name
    assert f"assigned to `{name}`" in found.message
    assert "bits per character" in found.message and found.details["entropy"] > 2.5


def test_it_calls_a_known_format_assigned_to_a_name_one_error_not_also_a_warning():
    key = "sk-proj-" + fake(URLSAFE, 120)
    found = check(f'OPENAI_API_KEY = "{key}"')
    assert [f.rule_id for f in found] == ["contains_secret"]


def test_it_treats_an_aws_secret_access_key_assignment_as_a_known_format():
    found = check(f"aws_secret_access_key = {fake(B64, 40)}")
    assert [(f.rule_id, f.details["kind"]) for f in found] == [
        ("contains_secret", "AWS secret access key")
    ]


def test_it_counts_further_secrets_in_the_same_message():
    tokens = " ".join("ghp_" + fake(ALNUM, 36) for _ in range(3))
    [found] = check(tokens)
    assert found.details["count"] == 3 and "2 more in this message" in found.message


# Code-heavy answers like ShareGPT and codegen data: none holds a secret.
NEGATIVES = [
    "$secure = ConvertTo-SecureString $plain -AsPlainText -Force\n"
    "$cred = New-Object System.Management.Automation.PSCredential($user, $secure)",
    "from django.contrib.auth.tokens import PasswordResetTokenGenerator\n\n"
    "class TokenGenerator(PasswordResetTokenGenerator):\n    pass\n"
    "account_activation_token = TokenGenerator()",
    "app.use(session({ secret: process.env.SESSION_SECRET, resave: false }));",
    "SECRET_KEY = os.environ['DJANGO_SECRET_KEY']\nsecret_key=settings.SECRET_KEY",
    "password = input('Password: ')\ntoken = request.headers[\"X-Auth-Token\"]",
    "api_key = os.getenv('OPENAI_API_KEY')\nAPI_KEY = 'YOUR_API_KEY'\napi_key = 'your_api_key_here'",
    "const API_KEY = '<your-key>';\nTOKEN=${1}\nPASSWORD=$(cat /run/secrets/db)",
    "password = 'changeme'\npassword: '********'\napi_key = 'xxxxxxxxxxxxxxxxxxxxxxxx'",
    "$username = 'root'; $password = 'password'; $dbname = 'mydatabase';",
    "password = 'P@ssw0rd1'\nstring password = \"mypassword\";\npassword: 'mypassword123'",
    "password = 'MySuperSecretPassword123'\nuser_password = hashed_password",
    "max_tokens = 4096\ntokenizer.pad_token = tokenizer.eos_token\nnum_tokens: 512",
    "git log --oneline\n3f2a9c1d8e7b6a5f4c3d2e1f0a9b8c7d6e5f4a3b Fix login\n"
    "a1b2c3d (HEAD -> main) Merge branch 'token-refresh'",
    "id = '123e4567-e89b-12d3-a456-426614174000'\nsha256: "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "![chart](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==)",
    "body { color: #ff5733; background: #1a2b3c; } .btn:hover { color: #FFFFFF; }",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
    "Here is your new password: a9B7$#fG3&Z1. Please keep it safe.",
    "AWS's example key id is AKIAIOSFODNN7EXAMPLE.",
    'Authorization: Bearer <token>\ncurl -H "Authorization: Bearer $TOKEN" https://api.x.io',
    "DATABASE_URL=postgres://user:password@localhost:5432/app\n"
    "mongodb+srv://<username>:<password>@cluster0.mongodb.net",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "sk-... is how OpenAI keys start; use sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    'jwt.sign(payload, process.env.JWT_SECRET, { expiresIn: "1h" })\n'
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
    "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    'publicKeyToken="1fc8b3b9a1e18e3b"\nverify_token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."',
    "if password == 'Xy9$kP2!qLm4': pass\nif token != 'b1d3F5h7J9k2M4n6P8q0':",
    "The Secretary said: the key point is that tokens are cheap.",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_it_flags_nothing_in_code_that_only_names_secrets(text):
    assert find_secrets(text) == []
    assert check(text) == []


words = st.sampled_from(
    "password secret token key api auth session reset generator secure string convert to "
    "client access private env settings config user hash value input request header get".split()
)


@st.composite
def identifiers(draw):
    parts = draw(st.lists(words, min_size=1, max_size=4))
    style = draw(st.sampled_from(["snake", "camel", "pascal", "upper", "dotted", "kebab"]))
    if style == "snake":
        name = "_".join(parts)
    elif style == "camel":
        name = parts[0] + "".join(p.title() for p in parts[1:])
    elif style == "pascal":
        name = "".join(p.title() for p in parts)
    elif style == "upper":
        name = "_".join(parts).upper()
    elif style == "dotted":
        name = ".".join(parts)
    else:
        name = "-".join(p.title() for p in parts)
    return name + draw(st.sampled_from(["", "", "2", "_v2", "()", "[0]"]))


@given(
    identifiers(),
    identifiers(),
    st.sampled_from(["{} = {}", "{}: {}", "{}={}", "{} => {}", "{}({})", "{} {}", "{} = '{}'"]),
)
def test_it_never_flags_identifiers_assigned_to_identifiers(left, right, template):
    assert find_secrets(template.format(left, right)) == []


@pytest.mark.parametrize(
    "hostile",
    [
        "eyJ" + "a" * 200_000,
        "eyJ" * 70_000,
        "password=" * 25_000,
        "-----BEGIN PRIVATE KEY-----\n" * 8_000,
        "postgres://" + "u" * 100_000 + ":" + "p" * 100_000,
        "sk-" + "A" * 200_000,
        ("token = '" + "a1" * 50 + "' ") * 2_000,
    ],
    ids=["jwt-run", "jwt-starts", "assignments", "pem-headers", "db-url", "sk-run", "literals"],
)
def test_it_stays_fast_on_hostile_texts(hostile):
    start = time.perf_counter()
    find_secrets(hostile)
    assert time.perf_counter() - start < 2.0
