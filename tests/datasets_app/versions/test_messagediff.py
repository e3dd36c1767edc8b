from hypothesis import given
from hypothesis import strategies as st

from datasets_app.services.versions.messagediff import message_diff

turn = st.builds(
    lambda role, text: {"role": role, "content": text},
    st.sampled_from(["user", "assistant"]),
    st.sampled_from(["a", "b", "c", "d"]),
)


def test_it_sees_an_inserted_first_turn_as_one_addition():
    old = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    new = [{"role": "system", "content": "s"}, *old]
    assert message_diff(old, new) == {
        "added": [{"index": 0, "turn": 1, "message": new[0]}],
        "removed": [],
        "changed": [],
        "tools_changed": False,
    }


def test_it_reports_changed_tools():
    tools = [{"type": "function", "function": {"name": "f"}}]
    msgs = [{"role": "user", "content": "q"}]
    diff = message_diff(msgs, msgs, None, tools)
    assert diff["tools_changed"] and diff["new_tools"] == tools and diff["old_tools"] is None


@given(st.lists(turn, max_size=8), st.lists(turn, max_size=8))
def test_it_accounts_for_every_turn(old, new):
    diff = message_diff(old, new)
    changed = len(diff["changed"])
    unchanged_old = len(old) - len(diff["removed"]) - changed
    unchanged_new = len(new) - len(diff["added"]) - changed
    assert unchanged_old == unchanged_new >= 0
    for c in diff["changed"]:
        assert old[c["old_index"]] == c["old"] and new[c["new_index"]] == c["new"]
        assert c["old"] != c["new"]
        # pages number turns from 1, as the editor does
        assert (c["old_turn"], c["new_turn"]) == (c["old_index"] + 1, c["new_index"] + 1)
    for a in diff["added"] + diff["removed"]:
        assert a["turn"] == a["index"] + 1
    if old == new:
        assert not (diff["added"] or diff["removed"] or diff["changed"])


@given(st.lists(turn, max_size=8), st.lists(turn, max_size=8))
def test_it_rebuilds_the_new_list_from_the_old_one_and_the_diff(old, new):
    diff = message_diff(old, new)
    removed = {r["index"] for r in diff["removed"]}
    changed = {c["old_index"]: c for c in diff["changed"]}
    kept = [(i, m) for i, m in enumerate(old) if i not in removed]
    rebuilt = {}
    added = {a["index"]: a["message"] for a in diff["added"]}
    slots = [j for j in range(len(new)) if j not in added]
    for j, (i, m) in zip(slots, kept, strict=True):
        rebuilt[j] = changed[i]["new"] if i in changed else m
    rebuilt.update(added)
    assert [rebuilt[j] for j in range(len(new))] == new
