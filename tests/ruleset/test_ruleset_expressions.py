"""Property expressions: the guide's tables (what each expression means and its resulting
type), evaluated over a small match."""

from __future__ import annotations

import pytest
from ruleset_helpers import party, solo

from lobby.flexmatch.ruleset import expressions as ex
from lobby.flexmatch.ruleset import parse_rule_set
from lobby.flexmatch.ruleset.evaluate import engine_for
from lobby.flexmatch.ruleset.rules import Regions

RULES = parse_rule_set(
    {
        "ruleLanguageVersion": "1.0",
        "playerAttributes": [
            {"name": "skill", "type": "number"},
            {"name": "modes", "type": "string_list"},
            {"name": "map", "type": "string"},
            {"name": "prefs", "type": "string_number_map"},
        ],
        "teams": [
            {"name": "red", "minPlayers": 1, "maxPlayers": 4},
            {"name": "blue", "minPlayers": 1, "maxPlayers": 4},
            {"name": "trio", "minPlayers": 0 + 1, "maxPlayers": 2, "quantity": 2},
        ],
    }
)
ENGINE = engine_for(RULES)
SCOPE = ENGINE.scope


def match(aggregation: str = "avg") -> list[ex.Team]:
    """red: skills 10, 20 (modes a,b / b,c); blue: 40, 60 (b / b,d); trio_1: a party of 1 and 3;
    trio_2: empty."""

    def p(ticket: str, skill: float, modes: tuple[str, ...]):
        return solo(ticket, skill=skill, modes=modes, map="dust", prefs={"dust": skill})

    red = [p("r1", 10, ("a", "b")), p("r2", 20, ("b", "c"))]
    blue = [p("b1", 40, ("b",)), p("b2", 60, ("b", "d"))]
    duo = party("t1", 0, {"skill": 1.0, "modes": ("x", "y"), "map": "m", "prefs": {}},
                {"skill": 3.0, "modes": ("y",), "map": "m", "prefs": {}})  # fmt: skip
    regions = Regions()
    teams = [[ENGINE.prepare(t, i, regions) for i, t in enumerate(team)] for team in (red, blue, [duo], [])]
    return [ex.Team(team) for team in teams]


def evaluate(text: str, aggregation: str = "avg"):
    return ex.compile_expression(ex.parse(text), SCOPE, aggregation)(match())


# The guide's tables: expression, resulting type.
DOCUMENTED = [
    ("teams[red].players[playerId]", "List<string>"),
    ("teams[red].players.attributes[skill]", "List<number>"),
    ("teams[red,blue].players.attributes[skill]", "List<List<number>>"),
    ("teams[*].players.attributes[skill]", "List<List<number>>"),
    ("flatten(teams[*].players.attributes[skill])", "List<number>"),
    ("avg(teams[red].players.attributes[skill])", "number"),
    ("avg(teams[*].players.attributes[skill])", "List<number>"),
    ("avg(flatten(teams[*].players.attributes[skill]))", "number"),
    ("count(teams[red].players)", "number"),
    ("count (teams[*].players)", "List<number>"),
    ("max(avg(teams[*].players.attributes[skill]))", "number"),
    ("team[red].players", "List<player>"),
    ("team[red,blue].players", "List<List<player>>"),
    ("team[*].players", "List<List<player>>"),
]


@pytest.mark.parametrize(("text", "type_"), DOCUMENTED)
def test_the_guides_expressions_have_the_types_it_gives(text, type_):
    assert str(ex.type_of(ex.parse(text), SCOPE)) == type_


def test_the_guides_expressions_mean_what_it_says():
    assert evaluate("teams[red].players[playerId]") == ["r1", "r2"]
    assert evaluate("teams[red].players.attributes[skill]") == [10, 20]
    assert evaluate("teams[red,blue].players.attributes[skill]") == [[10, 20], [40, 60]]
    assert evaluate("flatten(teams[red,blue].players.attributes[skill])") == [10, 20, 40, 60]
    assert evaluate("avg(teams[red].players.attributes[skill])") == 15
    assert evaluate("avg(teams[red,blue].players.attributes[skill])") == [15, 50]
    assert evaluate("avg(flatten(teams[red,blue].players.attributes[skill]))") == 32.5
    assert evaluate("count(teams[red].players)") == 2
    assert evaluate("count(teams[*].players)") == [2, 2, 2, 0]  # players, not tickets: the party counts 2
    assert evaluate("max(avg(teams[red,blue].players.attributes[skill]))") == 50


def test_aggregations():
    assert evaluate("min(teams[blue].players.attributes[skill])") == 40
    assert evaluate("max(teams[blue].players.attributes[skill])") == 60
    assert evaluate("sum(teams[blue].players.attributes[skill])") == 100
    assert evaluate("median(flatten(teams[red,blue].players.attributes[skill]))") == 30
    assert evaluate("stddev(teams[blue].players.attributes[skill])") == 10  # population deviation
    assert evaluate("set_intersection(flatten(teams[red,blue].players.attributes[modes]))") == ["b"]
    assert evaluate("set_intersection(teams[red,blue].players.attributes[modes])") == [["b"], ["b"]]
    assert evaluate("count(flatten(teams[red].players.attributes[modes]))") == 4
    assert evaluate("count(teams[red].players.attributes[modes])") == [2, 2]  # each sublist on its own


def test_a_missing_value_is_skipped_not_counted_as_zero():
    # trio_2 is empty: it has no average, and the match's highest team average ignores it.
    assert evaluate("avg(teams[*].players.attributes[skill])") == [15, 50, 2, None]
    assert evaluate("max(avg(teams[*].players.attributes[skill]))") == 50
    assert evaluate("min(avg(teams[*].players.attributes[skill]))") == 2
    assert evaluate("sum(teams[trio_2].players.attributes[skill])") == 0


def test_a_party_counts_once_with_its_aggregate_for_numbers():
    assert evaluate("teams[trio_1].players.attributes[skill]", "avg") == [2]
    assert evaluate("teams[trio_1].players.attributes[skill]", "min") == [1]
    assert evaluate("teams[trio_1].players.attributes[skill]", "max") == [3]


def test_a_party_counts_once_with_union_or_intersection_for_string_lists():
    assert evaluate("teams[trio_1].players.attributes[modes]", "union") == [("x", "y")]
    assert evaluate("teams[trio_1].players.attributes[modes]", "intersection") == [("y",)]
    # Outside a collection rule, each player keeps a list of its own.
    assert evaluate("teams[trio_1].players.attributes[modes]", "avg") == [("x", "y"), ("y",)]
    assert evaluate("teams[trio_1].players.attributes[map]", "avg") == ["m", "m"]


def test_a_definitions_name_stands_for_all_of_its_teams():
    assert str(ex.type_of(ex.parse("teams[trio].players.attributes[skill]"), SCOPE)) == "List<List<number>>"
    assert evaluate("count(teams[trio].players)") == [2, 0]


def test_string_lists_add_a_level():
    assert str(ex.type_of(ex.parse("teams[red].players.attributes[modes]"), SCOPE)) == "List<List<string>>"
    assert str(ex.type_of(ex.parse("flatten(teams[*].players.attributes[modes])"), SCOPE)) == "List<List<string>>"
    assert evaluate("flatten(teams[red,blue].players.attributes[modes])") == [("a", "b"), ("b", "c"), ("b",), ("b", "d")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "expected"),
        ("players.attributes[skill]", "expected 'teams[...]'"),
        ("teams[red]", "'.'"),
        ("teams[*]", "'.'"),
        ("teams[red].players.skill", "'attributes'"),
        ("teams[red].players.attributes", "'['"),
        ("teams[red].players.attributes[]", "empty attribute"),
        ("teams[].players", "use [*] or one or more team names"),
        ("teams[red,*].players", "use [*] or one or more team names"),
        ("teams[red].players[skill]", "only players[playerId]"),
        ("avg(", "expected"),
        ("avg(teams[red].players.attributes[skill]", "')'"),
        ("avg(teams[red].players.attributes[skill]))", "the end of the expression"),
        ("mean(teams[red].players)", "'mean', which is not one of"),
        ("foo bar", "expected"),
        ("avg(" * 40 + "teams[red].players" + ")" * 40, "more than 32 deep"),
    ],
)
def test_malformed_expressions(text, words):
    with pytest.raises(ex.ExpressionError) as caught:
        ex.parse(text)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("teams[green].players", "team 'green'"),
        ("teams[red].players.attributes[rank]", "attribute 'rank'"),
        ("avg(teams[red].players.attributes[map])", "holds no numbers"),
        ("avg(teams[red].players)", "holds no numbers"),
        ("flatten(teams[red].players.attributes[skill])", "not a list of lists"),
        ("set_intersection(teams[red].players.attributes[map])", "not to a list of string lists"),
        ("count(count(teams[red].players))", "not a list"),
    ],
)
def test_expressions_that_do_not_fit_the_rule_set(text, words):
    with pytest.raises(ex.ExpressionError) as caught:
        ex.type_of(ex.parse(text), SCOPE)
    assert words in str(caught.value)


def test_whitespace_and_the_guides_spellings_are_read():
    assert ex.parse(" avg ( teams [ red , blue ] . players . attributes [ skill ] ) ") == ex.Func(
        "avg", ex.Path(("red", "blue"), "attribute", "skill")
    )
    assert ex.parse("teams[red].players[playerid]") == ex.Path(("red",), "playerId")


def test_which_strings_are_expressions():
    assert ex.looks_like_expression("avg(teams[red].players.attributes[skill])")
    assert ex.looks_like_expression("teams[*].players[playerId]")
    assert ex.looks_like_expression("flatten (teams[*].players[playerId])")
    assert not ex.looks_like_expression("medic")
    assert not ex.looks_like_expression("turn-based")


def test_size_dependence_and_team_blindness():
    def sized(text: str) -> bool:
        return ex.uses_size(ex.parse(text))

    def blind(text: str) -> bool:
        return ex.team_blind(ex.parse(text), SCOPE)

    assert sized("count(teams[red].players)") and sized("max(sum(teams[*].players.attributes[skill]))")
    assert not sized("avg(teams[*].players.attributes[skill])")
    assert blind("max(flatten(teams[*].players.attributes[skill]))")
    assert not blind("avg(teams[*].players.attributes[skill])")
    assert not blind("flatten(teams[red,blue].players.attributes[skill])")
