import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dedup"


def alpaca_messages(row):
    user = row["instruction"] + ("\n\n" + row["input"] if row["input"] else "")
    return [{"role": "user", "content": user}, {"role": "assistant", "content": row["output"]}]


@pytest.fixture
def alpaca_rows():
    return [alpaca_messages(r) for r in json.loads((FIXTURES / "alpaca_small.json").read_text())]


@pytest.fixture
def chat_rows():
    lines = (FIXTURES / "chat_small.jsonl").read_text().splitlines()
    return [json.loads(line)["messages"] for line in lines]
