"""Hostile text, as other people can put it in names, titles and messages the services return.

Each sample carries a visible marker word so a test can find what must show literally. The
``SHOWN`` map gives the literal text a sample must show once escapes and control characters are
removed (markup stays as typed: brackets and all).
"""

from __future__ import annotations

#: Textual/Rich markup that would run an action, style text or make a link if parsed.
MARKUP = "[@click=app.quit]quit[/] [b]bold[/b] [link=https://evil.example]link[/link] [red]red"
#: CSI sequences: clear the screen, colour, move the cursor, hide it.
CSI = "\x1b[2J\x1b[31mcsi\x1b[0m\x1b[10;10H\x1b[?25l"
#: OSC 8 hyperlink, OSC 52 clipboard write, OSC 0 window title; 8-bit CSI too.
OSC = "\x1b]8;;https://evil.example\x1b\\osc\x1b]8;;\x1b\\\x1b]52;c;cHduZWQ=\x07\x1b]0;pwned\x07\x9b31m"
#: C0 and C1 controls: NUL, BEL, BS, CR, LF, VT, FF, DEL, NEL, CSI-8bit alone.
CONTROLS = "c0\x00\x07\x08\r\n\x0b\x0c\x7fc1\x85\x8d\x91"
#: Right-to-left text and the bidi overrides that could reorder what follows.
BIDI = "\u202eevil\u202c فريق الصقور \u2067קבוצה\u2069"
#: Wide characters and emoji, and combining marks stacked on letters.
WIDE = "🐺🔥狼队 ｗｉｄｅ"
ZALGO = "Z̴̡̛̖a̷̢̛l̸̨̛g̵̡̛o̶̢̕"
#: Ten thousand characters without a space.
LONG = "W" * 10_000

SHOWN = {
    "MARKUP": MARKUP,
    "CSI": "csi",
    "OSC": "osc",
    "CONTROLS": "c0 c1",
    "BIDI": "evil فريق الصقور קבוצה",
    "WIDE": WIDE,
    "ZALGO": ZALGO,
}

#: A short hostile name (at most 80 characters, as names on the services are).
NAME = "[b]Owls[/b]\x1b[31m\u202e🦉"
#: Every escape or control character that must never reach the terminal from network text.
FORBIDDEN = ("\x1b", "\x07", "\x9b", "\x00", "\x08", "\x7f", "\x85", "\x8d", "\u202e", "\u2067")


def everything() -> str:
    """All the short samples in one string (markup first, so it is what a title starts with)."""
    return " ".join((MARKUP, CSI, OSC, CONTROLS, BIDI, WIDE, ZALGO))


# --- a TeamBattles scenario whose names are hostile ----------------------------------------------

#: Names (at most 80 characters, as the service allows) given to the demo's teams, people and maps.
TEAM_NAMES = {
    "t_owls": "[@click=app.quit]Owls[/] \x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
    "t_vipers": "\x1b[2J\x1b]0;pwned\x07[b]Vipers[/b] \u202eSTAR\u202c 🐍",
    "t_wolves": "ذئاب وحيدة \u2067זאבים\u2069 [link=x]w[/link]",
}
USER_NAMES = {
    "u_ada": "[@click=app.bell]Ada[/] \x1b]52;c;cHduZWQ=\x07",
    "u_bo": "Bo̶̢̕ Z̴̡̛̖a̷̢̛l̸̨̛g̵̡̛o̶̢̕ 🐻‍❄️🏳️‍🌈",
    "u_cy": "Cy\x00\x07\x08\r\nnext\x85line",
    "u_dee": "Ｄｅｅ " + "W" * 70,
}
MAP_NAMES = {"harbor": "[i]Harbor[/i] \x1b[5mblink", "foundry": "Foundry 🏭\u202eyrdnuof"}
NOTES = "[@click=app.quit]Scrim[/] \x1b]52;c;cHduZWQ=\x07 " + "N" * 10_000


def hostile_teambattles(tmp_path, **extra):
    """The demo scenario with hostile names and notes, written to ``tmp_path``: its path."""
    import json

    from lobby.emulator.scenario import load_scenario

    doc = load_scenario().model_dump(mode="json")
    tb = doc["teambattles"]
    for team in tb["teams"]:
        team["name"] = TEAM_NAMES.get(team["id"], team["name"])
    for user in tb["users"]:
        user["name"] = USER_NAMES.get(user["id"], user["name"])
    for game in tb["games"]:
        for map_ in game["maps"]:
            map_["name"] = MAP_NAMES.get(map_["id"], map_["name"])
    for match in tb["matches"]:
        if match["id"] == "tbm_vipers_hp":
            match["notes"] = NOTES
    tb["bots"] = []  # nothing changes unless the test changes it
    doc["flexmatch"] = {**doc["flexmatch"], "bots": {"count": 0}, "human_parties": []}
    doc.update(extra)
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


# --- what reached the screen ---------------------------------------------------------------------

#: Actions hostile markup names; a segment carrying one of them would run it when clicked.
HOSTILE_ACTIONS = ("app.quit", "app.bell")


def screen_lines(app) -> list[str]:
    """Every line of the app's current screen, toasts and all, as drawn."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app) -> str:
    return "\n".join(screen_lines(app))


def assert_inert(app) -> None:
    """Nothing on screen is an escape or control character, a hyperlink or a hostile action."""
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        for segment in strip:
            found = [c for c in FORBIDDEN if c in segment.text]
            assert not found, f"line {y} draws {found!r}: {segment.text!r}"
            style = segment.style
            if style is None:
                continue
            assert not style.link, f"line {y} is a link to {style.link}: {segment.text!r}"
            action = (style.meta or {}).get("@click")
            assert not any(a in str(action) for a in HOSTILE_ACTIONS), f"line {y} runs {action}"
