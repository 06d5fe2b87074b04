"""A listed record said by its name with a few short facts beside it (answers/phrases.py): the plain answer a
dialogue falls back to must read as a person's, not as the record's fields."""

from toolloom.answers.phrases import list_phrase
from toolloom.answers.values import item_name

SHOW = {
    "id": 57243,
    "name": "Doctor Who",
    "original_name": "Doctor Who",
    "popularity": 22.509632,
    "vote_average": 7.16,
    "overview": "The Doctor is a Time Lord: a 900 year old alien with 2 hearts, part of a gifted civilization.",
    "poster_path": "/sz4zF5z9zyFh8Z6g5IQPNq91cI7.jpg",
    "first_air_date": "2005-03-26",
}


def test_a_record_is_named_without_its_name_again_its_long_texts_links_or_six_decimal_scores():
    """Blind reads of TMDB: "Doctor Who (Doctor Who, popularity 22.509632, vote average 7.16)", "The Sopranos
    (vote average 7.87)" and "(.svg, height 268, vote average 0)" read as stiff."""
    assert item_name(SHOW) == "Doctor Who (2005-03-26)"  # nor a poll's figures: "(vote average 7.16)"


def test_short_facts_beside_a_name_are_kept():
    assert item_name({"id": 1, "name": "Lea Favre", "role": "guide", "rating": 4.5}) == "Lea Favre (guide, rating 4.5)"
    assert list_phrase("results", [SHOW, {"id": 1396, "name": "Breaking Bad"}]).endswith("and Breaking Bad")


def test_nothing_empty_unknown_or_a_flag_is_said_beside_a_name():
    """A person's TV credits: "Growing Pains (, episode count 2, 1985-09-24)", "Pet Star (backdrop path not known)"."""
    credit = {"id": 54, "name": "Growing Pains", "character": "", "backdrop_path": None, "adult": False}
    assert item_name(credit | {"episode_count": 2}) == "Growing Pains (episode count 2)"
