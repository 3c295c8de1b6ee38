"""What the tour says of itself stays true: its word count and its number of code quotes, which
tell a reader how long it takes (docs/tour.md, first paragraph)."""

import re
from pathlib import Path

TOUR = Path(__file__).resolve().parents[2] / "docs" / "tour.md"
# "(about 4,000 words and 28 code quotes)"
CLAIM = re.compile(r"about ([\d,]+) words and (\d+) code quotes")
# A quote's heading: the file, "lines A-B" (an en dash in the docs), and a link to those lines.
QUOTE = re.compile(r"^\[[^\]]+, lines? [^\]]+\]\([^)]+#L\d+(?:-L\d+)?\):$", re.MULTILINE)


def test_the_tour_has_the_quotes_and_about_the_words_it_says():
    text = TOUR.read_text()
    words, quotes = CLAIM.search(text).groups()
    claimed_words = int(words.replace(",", ""))

    assert len(QUOTE.findall(text)) == int(quotes)
    # "About": within 15 %, code included (a reader reads the quotes too).
    assert abs(len(text.split()) - claimed_words) <= 0.15 * claimed_words
