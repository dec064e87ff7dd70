"""Rules tests for the Python high-card duel, run natively: `pytest high-card-duel`."""

import json

import pytest

from arcade_sdk import GameOver, Illegal, Malformed, NotAPlayer, NotYourTurn, Viewer
from arcade_sdk.testing import Table
from game import HAND_SIZE, HighCardDuel, card_name, deck, parse_card

MASK = (1 << 64) - 1


def table(seed=1):
    return Table(HighCardDuel, ["ann", "bob"], seed=seed)


def hand(t, player):
    return t.view_of(player)["hand"]


def strings(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def assert_hidden(value, secret, context):
    leaked = set(strings(value)) & set(secret)
    assert not leaked, f"{context} shows {leaked}: {json.dumps(value)}"


def play_out(seed):
    t = table(seed)
    for _ in range(HAND_SIZE):
        for who in ("ann", "bob"):
            t.act(who, {"play": hand(t, who)[0]})
    return t


def test_cards_parse_and_print():
    for card in deck():
        assert parse_card(card_name(card)) == card
    for bad in ["", "C", "1C", "11C", "02C", "+5C", "10X", "qh", "AH ", 10, None]:
        assert parse_card(bad) is None, bad


def test_each_player_is_dealt_five_distinct_cards():
    t = table()
    a, b = hand(t, "ann"), hand(t, "bob")
    assert len(a) == len(b) == HAND_SIZE
    assert len(set(a) | set(b)) == 2 * HAND_SIZE


def test_the_shuffle_is_fisher_yates_over_splitmix64_as_in_the_rust_game():
    state = 7

    def next_u64():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    cards = deck()
    for i in range(51, 0, -1):
        j = next_u64() % (i + 1)
        cards[i], cards[j] = cards[j], cards[i]
    expected = [[card_name(c) for c in sorted(cards[s:10:2])] for s in range(2)]
    t = table(7)
    assert [hand(t, "ann"), hand(t, "bob")] == expected
    deals = {json.dumps([hand(table(s), "ann"), hand(table(s), "bob")]) for s in range(20)}
    assert len(deals) >= 19, "different seeds deal differently"
    assert hand(table(MASK), "ann") == hand(table(MASK), "ann")


def test_deal_events_are_private_and_delivered_once():
    t = table(3)
    a, b = hand(t, "ann"), hand(t, "bob")
    events = t.act("ann", {"play": a[0]})
    deals = [e for e in events if e.kind == "deal"]
    assert [(e.audience.kind, e.audience.players, e.data) for e in deals] == [
        ("only", ("ann",), {"hand": a}),
        ("only", ("bob",), {"hand": b}),
    ]
    assert not any(e.kind == "deal" for e in t.act("bob", {"play": b[0]}))


def test_hands_are_hidden_from_the_opponent_and_spectators_throughout():
    t = table(5)

    def secrets(player):
        view = t.view_of(player)
        return view["hand"] + ([view["pending"]] if view["pending"] else [])

    def check(events=()):
        for who, other in (("ann", "bob"), ("bob", "ann")):
            assert_hidden(t.view_of(other), secrets(who), f"{other}'s view")
            assert_hidden([e.data for e in events if e.visible_to(Viewer.of(other))], secrets(who), f"{other}'s events")
        everyone = secrets("ann") + secrets("bob")
        assert_hidden(t.spectator_view(), everyone, "the spectator view")
        assert_hidden([e.data for e in events if e.visible_to(Viewer.spectator())], everyone, "spectators' events")

    check()
    for _ in range(HAND_SIZE):
        check(t.act("ann", {"play": hand(t, "ann")[-1]}))
        check(t.act("bob", {"play": hand(t, "bob")[0]}))


def test_simultaneous_rounds_in_any_order():
    t = table(9)
    assert sorted(t.awaiting()) == ["ann", "bob"]
    played = t.act("bob", {"play": hand(t, "bob")[0]})
    assert [e.data for e in played if e.kind == "played"] == [{"player": "bob", "round": 1}]
    assert t.awaiting() == ["ann"]
    with pytest.raises(NotYourTurn):
        t.act("bob", {"play": hand(t, "bob")[0]})
    assert t.view_of("ann")["opponent"] == {"name": "bob", "hand_size": 4, "played": True}
    events = t.act("ann", {"play": hand(t, "ann")[0]})
    assert [e.kind for e in events] == ["played", "round"]
    assert sorted(t.awaiting()) == ["ann", "bob"]


def test_higher_rank_wins_the_round_and_the_game_is_scored():
    for seed in range(30):
        t = play_out(seed)
        view = t.spectator_view()
        for r in view["history"]:
            a, b = (parse_card(r["cards"][p])[0] for p in ("ann", "bob"))
            assert r["winner"] == ("ann" if a > b else "bob" if b > a else None)
        wins = {p: sum(r["winner"] == p for r in view["history"]) for p in ("ann", "bob")}
        assert view["scores"] == wins
        expected = ["ann"] if wins["ann"] > wins["bob"] else ["bob"] if wins["bob"] > wins["ann"] else []
        assert t.status().winners == expected == view["winners"]
        assert {(s.player, s.points) for s in t.status().outcome.scores} == set(wins.items())


def test_cards_not_in_hand_strangers_and_malformed_actions_are_refused():
    t = table(4)
    theirs = hand(t, "bob")[0]
    before = t.view_of("ann")
    with pytest.raises(Illegal):
        t.act("ann", {"play": theirs})
    with pytest.raises(NotAPlayer):
        t.act("eve", {"play": theirs})
    for bad in ["{", "[]", '{"play": 5}', '{"play": "1C"}', '{"card": "2C"}', '{"play": "2C", "x": 1}']:
        with pytest.raises(Malformed):
            t.act_raw("ann", bad)
    assert t.view_of("ann") == before


def test_no_actions_after_the_game_is_over():
    t = play_out(11)
    assert t.awaiting() == [] and t.spectator_view()["round"] is None
    with pytest.raises(GameOver):
        t.act("ann", {"play": "2C"})
    assert t.legal_actions("ann") == [] and t.legal_actions("bob") == []


def test_legal_actions_are_the_hand_of_an_awaited_player():
    t = table(2)
    assert t.legal_actions("ann") == [{"play": c} for c in hand(t, "ann")]
    t.act("ann", {"play": hand(t, "ann")[0]})
    assert t.legal_actions("ann") == []
    assert t.legal_actions("eve") == []
