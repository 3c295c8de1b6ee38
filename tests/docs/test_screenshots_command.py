"""`make screenshots` refuses bad input with a clear message, before it starts anything."""

import pytest

import screenshots


def test_an_unknown_page_is_refused_with_the_names_of_the_pages(capsys):
    with pytest.raises(SystemExit) as exit_info:
        screenshots.main(["--pages", "home,nowhere"])

    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "unknown page nowhere" in error
    assert "the pages are home, demo, race, chat, report, live" in error


def test_a_missing_chromium_is_named_and_nothing_is_started(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(screenshots, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(screenshots, "running_stacks", lambda *_: pytest.fail("started the stacks"))

    assert screenshots.main(["--pages", "home"]) == 1
    assert f"Chromium is not installed at {tmp_path / 'no-chromium'}" in capsys.readouterr().err
